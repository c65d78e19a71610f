#!/bin/bash
# Images between hosts: three network namespaces A, B, C on a private LAN
# (tests/netns.sh), real nc connections and a real sshd in B and C.  Sealed
# stream A->B over nc; two shares over two nc connections with no share file
# on disk; scp through sshd; a relay on C that flips one byte; a stalled
# sender; a batch spread over B and C by GNU parallel --sshlogin.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/netns.sh"

names="nc A->B sealed stream|shares over two nc connections|wrapper shares over two nc connections|scp through sshd|relay flipping a byte|stalled sender|parallel --sshlogin batch"
if ! netns_up; then
	IFS='|'
	for n in $names; do skip "$n" "network namespaces unavailable: $NETNS_WHY"; done
	exit 0
fi
cd "$T" || exit 70
mkdir -p A B C
convert -seed 11 -size 160x120 plasma: a.png 2>/dev/null || { fail setup "convert failed"; exit 1; }
sit-aes --gen-key -o key || { fail setup "sit-aes --gen-key failed"; exit 1; }
sit encrypt -k key -o sealed a.png || { fail setup "sit encrypt failed"; exit 1; }

# recv HOST PORT SCRIPT: run SCRIPT (bash) in HOST once PORT is listening there;
# SCRIPT's own exit status goes to $T/rc.PORT; its pid to $p.  At most 20 s.
recv() {
	local h=$1 port=$2
	on "$h" timeout 20 bash -c "$3"'; echo $? >'"$T/rc.$port" >"$T/log.$port" 2>&1 &
	p=$!
}
rc_of() { cat "$T/rc.$1" 2>/dev/null || echo none; }

# 1. A sealed stream from A to B over nc, decrypted on arrival.
recv b 7001 "nc -l 7001 | sit decrypt -k key -o B/a.png -"
wait_listen b 7001
sit encrypt -k key - <a.png | on a timeout 20 nc -N "$IP_B" 7001
wait "$p"
if [ "$(rc_of 7001)" = 0 ] && cmp -s a.png B/a.png; then pass "nc A->B sealed stream, decrypted on arrival"
else fail "nc A->B sealed stream" "receiver exit $(rc_of 7001): $(head -c 300 log.7001)"; fi

# 2. Two shares over two connections: sit-share writes into the connections,
# sit-unshare reads from them; no share file anywhere.
rm -f B/a.png
recv b 7003 "sit-unshare <(nc -l 7002) <(nc -l 7003) | sit-aes -d -k key | sit-load -o B/a.png"
wait_listen b 7002 && wait_listen b 7003
on a timeout 20 bash -c "sit-load a.png | sit-aes -e -k key |
	sit-share -k 2 -n 2 >(nc -N $IP_B 7002) >(nc -N $IP_B 7003)"
wait "$p"
left=$(find A B -name '*.png' ! -path B/a.png)
if [ "$(rc_of 7003)" = 0 ] && cmp -s a.png B/a.png && [ -z "$left" ]; then
	pass "shares over two nc connections, none on disk"
else fail "shares over two nc connections" "exit $(rc_of 7003), left '$left': $(head -c 300 log.7003)"; fi

# The same with the wrapper: fifos on the sending side, process substitutions
# on the receiving side.
rm -f B/a.png
mkfifo A/s.1.png A/s.2.png
recv b 7005 "sit decrypt --shares -k key -o B/a.png <(nc -l 7004) <(nc -l 7005)"
wait_listen b 7004 && wait_listen b 7005
on a timeout 20 nc -N "$IP_B" 7004 <A/s.1.png &
s1=$!
on a timeout 20 nc -N "$IP_B" 7005 <A/s.2.png &
s2=$!
sit encrypt --shares 2/2 -k key -o A/s a.png 2>A/err
src=$?
wait "$s1" "$s2" "$p"
if [ $src = 0 ] && [ "$(rc_of 7005)" = 0 ] && cmp -s a.png B/a.png && [ -p A/s.1.png ] && [ -p A/s.2.png ]; then
	pass "wrapper shares over two nc connections (fifos, process substitutions)"
else fail "wrapper shares over two nc connections" "sender $src $(head -c 200 A/err), receiver $(rc_of 7005): $(head -c 300 log.7005)"; fi
rm -f A/s.1.png A/s.2.png

# 3. scp through the sshd in B, then decrypt there over ssh.
if sshd_up b c; then
	rm -f B/a.png
	if on a scp -q -F "$SSH_CONFIG" sealed "b:$T/B/a.png.sit" &&
		on a ssh -F "$SSH_CONFIG" b "$SIT_BIN/sit decrypt -k $T/key $T/B/a.png.sit" &&
		cmp -s a.png B/a.png; then pass "scp through sshd, decrypted on B"
	else fail "scp through sshd" "scp or remote decrypt failed: $(tail -2 ssh/sshd_b.log)"; fi
	sshd_ok=1
else
	fail "scp through sshd" "$NETNS_WHY"
	sshd_ok=0
fi

# 4. A relay on C flips one byte in transit: B refuses, keeps no file.
rm -f B/a.png
flip='$|=1; binmode STDIN; binmode STDOUT; my ($n, $done) = (0, 0);
	while (my $got = sysread(STDIN, my $b, 65536)) {
		if (!$done && $n + $got > 3000) { substr($b, 3000 - $n, 1) ^= "\x01"; $done = 1 }
		$n += $got; print $b }'
recv b 7007 "nc -l 7007 | sit decrypt -k key -o B/a.png -"
wait_listen b 7007
on c timeout 20 bash -c "nc -l 7006 | perl -e '$flip' | nc -N $IP_B 7007" &
relay=$!
wait_listen c 7006
sit encrypt -k key - <a.png | on a timeout 20 nc -N "$IP_C" 7006
wait "$relay" "$p"
if [ "$(rc_of 7007)" = 65 ] && [ ! -e B/a.png ] && grep -q '^sit-aes: data corrupted or tampered at byte' log.7007; then
	pass "relay on C flipping a byte: B refuses (65), no file"
else fail "relay flipping a byte" "exit $(rc_of 7007), file: $(ls B), log: $(head -c 300 log.7007)"; fi
notemp "relay: no temporary file on B" B

# 5. A sender that stalls: B's deadline fires, 75, no file, resend asked.
recv b 7008 "nc -l 7008 | { s=\$(date +%s%N); sit decrypt -k key --deadline 2 -o B/a.png -; r=\$?; echo \$(( (\$(date +%s%N) - s) / 1000000 )) >ms.7008; exit \$r; }"
wait_listen b 7008
{ head -c 3000 sealed; sleep 6; } | on a timeout 20 nc -N "$IP_B" 7008 &
sender=$!
wait "$p"
kill "$sender" 2>/dev/null
ms=$(cat ms.7008 2>/dev/null || echo 99999)
if [ "$(rc_of 7008)" = 75 ] && [ ! -e B/a.png ] && [ "$ms" -lt 4500 ] &&
	grep -q 'deadline of 2 s passed, output discarded: ask the sender to resend' log.7008; then
	pass "stalled sender: deadline fired after $ms ms, exit 75, no file"
else fail "stalled sender" "exit $(rc_of 7008) after $ms ms, file: $(ls B), log: $(head -c 300 log.7008)"; fi

# 6. A batch over two hosts: GNU parallel sends each sealed file to B or C
# over ssh (rsync), decrypts it there with sit, and brings the image back.
if [ "$sshd_ok" = 1 ] && command -v rsync >/dev/null; then
	mkdir -p batch remote
	convert -seed 3 -size 160x120 plasma: -crop 80x60 +repage -scene 1 batch/x%d.png
	for i in 1 2 3 4; do
		cp "batch/x$i.png" "batch/orig$i.png"
		sit encrypt -k key "batch/x$i.png" && rm "batch/x$i.png"
	done
	(cd batch && on a timeout 60 parallel --will-cite -j 2 --ssh "ssh -F $SSH_CONFIG" -S 1/b,1/c \
		--workdir "$T/remote" --transferfile "{}" --return "{.}" --cleanup --joblog "$T/joblog" \
		"$SIT_BIN/sit decrypt -k $T/key {}" ::: x1.png.sit x2.png.sit x3.png.sit x4.png.sit) >plog 2>&1
	prc=$?
	bad=""
	for i in 1 2 3 4; do cmp -s "batch/orig$i.png" "batch/x$i.png" || bad="$bad $i"; done
	hosts=$(awk 'NR > 1 { print $2 }' joblog | sort -u | tr '\n' ' ')
	if [ $prc = 0 ] && [ -z "$bad" ] && [ "$hosts" = "b c " ]; then
		pass "parallel --sshlogin: 4 images decrypted on B and C, all identical"
	else fail "parallel --sshlogin batch" "exit $prc, differ:$bad, hosts '$hosts': $(head -c 300 plog)"; fi
else
	skip "parallel --sshlogin batch" "no sshd or no rsync"
fi
