# shellcheck shell=bash
# shellcheck disable=SC2034 # variables here are used by the sourcing tests
# tests/netns.sh - hosts as network namespaces, for tests between hosts.
# Sourced (bash) after tests/lib.sh.
#
#   netns_up         make hosts A, B, C (namespaces sit-a-PID, ...) on one
#                    private LAN 10.77.0.0/24 through a bridge in a fourth
#                    namespace: A=10.77.0.1 B=10.77.0.2 C=10.77.0.3.  Returns 1
#                    with the reason in $NETNS_WHY where namespaces cannot be
#                    made (not root, no CAP_SYS_ADMIN, no ip(8)).
#   on HOST CMD...   run CMD inside host HOST (a, b or c)
#   sshd_up HOST...  start a real sshd on port 2222 in each HOST with throwaway
#                    host and user keys in $T; afterwards `ssh -F $SSH_CONFIG b`
#                    (or c) logs in as root by key, and so do scp and parallel.
#   wait_listen HOST PORT    wait (at most 5 s) until a TCP socket listens on
#                    PORT in HOST (without connecting: nc -l takes one client)
#   netns_down       kill what was started and delete the namespaces; runs at
#                    exit on every path (installed by netns_up), failures too.
#
# Nothing leaves the machine: the addresses exist only inside the namespaces
# and the only links are veth pairs between them.

NS_ID=$$
NS_A=sit-a-$NS_ID NS_B=sit-b-$NS_ID NS_C=sit-c-$NS_ID NS_SW=sit-sw-$NS_ID
IP_A=10.77.0.1 IP_B=10.77.0.2 IP_C=10.77.0.3
SSH_PORT=2222
SSH_CONFIG=$T/ssh_config
NETNS_WHY=
NS_PIDS=

ns_of() {
	case $1 in
	a) echo "$NS_A" ;; b) echo "$NS_B" ;; c) echo "$NS_C" ;;
	*) echo "netns.sh: no host '$1'" >&2; return 1 ;;
	esac
}

on() {
	local ns
	ns=$(ns_of "$1") || return 70
	shift
	ip netns exec "$ns" "$@"
}

# Remember a background process started in a host so netns_down kills it.
ns_track() { NS_PIDS="$NS_PIDS $1"; }

netns_down() {
	local p ns
	for p in $NS_PIDS; do kill "$p" 2>/dev/null; done
	for ns in "$NS_A" "$NS_B" "$NS_C"; do
		# Anything still running inside (a stuck nc, sshd children).
		for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	done
	for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_SW"; do
		ip netns del "$ns" 2>/dev/null
	done
	NS_PIDS=
}

netns_up() {
	local h ns ip
	if [ "$(id -u)" != 0 ]; then NETNS_WHY="not root"; return 1; fi
	if ! command -v ip >/dev/null; then NETNS_WHY="no ip(8) (install iproute2)"; return 1; fi
	if ! ip netns add "$NS_SW" 2>"$T/netns.err"; then
		NETNS_WHY="ip netns add failed: $(head -1 "$T/netns.err")"
		return 1
	fi
	# From here on, whatever happens, the namespaces go at exit.
	trap 'netns_down; rm -rf "$T"' EXIT
	trap 'exit 130' INT TERM HUP
	ip -n "$NS_SW" link add br0 type bridge || return 1
	ip -n "$NS_SW" link set br0 up || return 1
	for h in a b c; do
		ns=$(ns_of $h)
		case $h in a) ip=$IP_A ;; b) ip=$IP_B ;; c) ip=$IP_C ;; esac
		ip netns add "$ns" || return 1
		# eth0 inside the host, port-$h on the bridge: names are per namespace.
		ip link add eth0 netns "$ns" type veth peer name "port-$h" netns "$NS_SW" || return 1
		ip -n "$NS_SW" link set "port-$h" master br0 up || return 1
		ip -n "$ns" addr add "$ip/24" dev eth0 || return 1
		ip -n "$ns" link set eth0 up || return 1
		ip -n "$ns" link set lo up || return 1
	done
	return 0
}

wait_listen() {
	local i=0
	while [ -z "$(on "$1" ss -Hltn "sport = :$2" 2>/dev/null)" ]; do
		i=$((i + 1))
		[ $i -ge 100 ] && return 1
		sleep 0.05
	done
}

# Keys, configs and sshd processes for HOST...  Returns 1 if one does not come up.
sshd_up() {
	local h ns ip
	mkdir -p /run/sshd "$T/ssh" "$T/home" && chmod 700 "$T/ssh" || return 1
	if [ ! -f "$T/ssh/id" ]; then
		ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/id" -C sit-test || return 1
		ssh-keygen -q -t ed25519 -N '' -f "$T/ssh/host" -C sit-test-host || return 1
		cp "$T/ssh/id.pub" "$T/ssh/authorized_keys" || return 1
		: >"$SSH_CONFIG"
	fi
	for h in "$@"; do
		ns=$(ns_of "$h") || return 1
		case $h in a) ip=$IP_A ;; b) ip=$IP_B ;; c) ip=$IP_C ;; esac
		# A config of our own: our host key, our authorized_keys, no PAM,
		# root by key only, nothing read from /root or /etc/ssh's keys.
		cat >"$T/ssh/sshd_$h.conf" <<-EOF
			Port $SSH_PORT
			ListenAddress $ip
			HostKey $T/ssh/host
			PidFile $T/ssh/sshd_$h.pid
			AuthorizedKeysFile $T/ssh/authorized_keys
			PermitRootLogin prohibit-password
			PasswordAuthentication no
			KbdInteractiveAuthentication no
			UsePAM no
			StrictModes no
			PrintMotd no
			Subsystem sftp internal-sftp
			# A home of our own: the test never reads or writes root's real
			# dotfiles (and a slow ~/.bashrc does not slow every login).
			SetEnv HOME=$T/home
			LogLevel ERROR
		EOF
		cat >>"$SSH_CONFIG" <<-EOF
			Host $h
			  HostName $ip
			  Port $SSH_PORT
			  User root
			  IdentityFile $T/ssh/id
			  IdentitiesOnly yes
			  StrictHostKeyChecking no
			  UserKnownHostsFile $T/ssh/known_hosts
			  LogLevel ERROR
			  BatchMode yes
			  ConnectTimeout 5
		EOF
		ip netns exec "$ns" /usr/sbin/sshd -D -f "$T/ssh/sshd_$h.conf" -E "$T/ssh/sshd_$h.log" &
		ns_track $!
	done
	for h in "$@"; do
		wait_listen "$h" "$SSH_PORT" || { NETNS_WHY="sshd in $h did not come up: $(tail -1 "$T/ssh/sshd_$h.log")"; return 1; }
	done
}
