# bash completion (contrib/moshi.bash): roles, options, option values,
# and host names from ~/.ssh/config and known_hosts (without
# bash-completion loaded, as on a bare system).
SUITE=completion
. "$(dirname "$0")/../lib.sh"

if ! command -v bash >/dev/null; then
	skip completion "needs bash"
	exit 0
fi
here=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$TMP/home/.ssh"
cat > "$TMP/home/.ssh/config" <<'CONF'
Host alpha beta-box *.wild
	User me
host gamma
CONF
printf 'delta.example,10.0.0.9 ssh-ed25519 AAAA\n[eps.example]:2222 ssh-ed25519 AAAA\n|1|aGFzaA==|aGFzaA== ssh-ed25519 AAAA\n' \
	> "$TMP/home/.ssh/known_hosts"

# complete WORDS...: what completing the last word offers, sorted, on one line.
complete_words() {
	HOME="$TMP/home" bash --norc --noprofile -c '
		. "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_moshi
		[ ${#COMPREPLY[@]} -gt 0 ] && printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " "' sh "$here/contrib/moshi.bash" "$@"
}
check() { # NAME WANT WORDS...
	name=$1 want=$2
	shift 2
	got=$(complete_words "$@")
	[ "$got" = "$want" ] && pass "$name" || fail "$name" "got '$got', want '$want'"
}
check roles_and_hosts "10.0.0.9 alpha attach beta-box client connect delta.example eps.example gamma kill ls serve server " moshi ""
check role_prefix "serve server " moshi se
check host_after_connect "10.0.0.9 alpha beta-box delta.example eps.example gamma " moshi connect ""
check user_at_host "me@alpha " moshi me@al
check option_prefix "--family= " moshi --fam
check family_values "--family=inet --family=inet6 " moshi --family=ine
check remote_ip_values "--experimental-remote-ip=local " moshi --experimental-remote-ip=l
check port_value_then_host "gamma " moshi -p 60001 ga
check nothing_after_host "" moshi gamma ""
check nothing_for_server_role "" moshi server ""
