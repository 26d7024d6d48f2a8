# bash completion for moshi: roles, connect's options, and host names as
# ssh's completion finds them (bash-completion's _known_hosts_real when
# it is loaded, else ~/.ssh/config's Host lines and known_hosts).

_moshi_hosts()
{
	local cur=$1
	if declare -F _known_hosts_real >/dev/null; then
		_known_hosts_real -a -- "$cur"
		return
	fi
	local user= word=$cur
	if [[ $cur == *@* ]]; then
		user=${cur%%@*}@
		word=${cur#*@}
	fi
	local hosts
	hosts=$( {
		awk 'tolower($1) == "host" { for (i = 2; i <= NF; i++) if ($i !~ /[*?!]/) print $i }' \
			~/.ssh/config 2>/dev/null
		awk '$1 !~ /^\|/ { n = split($1, h, ","); for (i = 1; i <= n; i++) print h[i] }' \
			~/.ssh/known_hosts 2>/dev/null | sed 's/^\[\(.*\)\]:.*/\1/'
	} | sort -u)
	local h
	for h in $(compgen -W "$hosts" -- "$word"); do
		COMPREPLY+=("$user$h")
	done
}

_moshi()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local roles="connect server serve client ls kill attach"
	local opts="--local --ssh= --server= --client= --port= --predict= --family=
		--bind-server= --experimental-remote-ip= --no-upload --no-ssh-pty --no-init
		--alternate-screen --reap= --carrier=
		-4 -6 -a -n -v -p --help --version"
	COMPREPLY=()
	case "$cur" in
	--predict=*)
		COMPREPLY=($(compgen -P --predict= -W "adaptive always never experimental" -- "${cur#*=}")); return ;;
	--family=*)
		COMPREPLY=($(compgen -P --family= -W "inet inet6 auto all prefer-inet prefer-inet6" -- "${cur#*=}")); return ;;
	--experimental-remote-ip=*)
		COMPREPLY=($(compgen -P --experimental-remote-ip= -W "proxy local remote" -- "${cur#*=}")); return ;;
	--carrier=*)
		COMPREPLY=($(compgen -P --carrier= -W "auto udp ssh" -- "${cur#*=}")); return ;;
	--bind-server=*)
		COMPREPLY=($(compgen -P --bind-server= -W "ssh any" -- "${cur#*=}")); return ;;
	-*)
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
		[[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null
		return ;;
	esac
	# After the host, the rest is the remote command: leave it to bash.
	local i w seen_host=
	for ((i = 1; i < COMP_CWORD; i++)); do
		w=${COMP_WORDS[i]}
		case "$w" in
		-p|--port) ((i++)) ;;
		-*|connect) ;;
		server|serve|client) [[ $i == 1 ]] && return ;;
		*) seen_host=1 ;;
		esac
	done
	[[ -n $seen_host ]] && return
	if [[ $COMP_CWORD == 1 ]]; then
		COMPREPLY=($(compgen -W "$roles" -- "$cur"))
	fi
	_moshi_hosts "$cur"
}
complete -F _moshi moshi
