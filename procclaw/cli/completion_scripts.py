"""The completion scripts for bash, zsh and fish, each built around one table of the
words `procclaw` accepts (procclaw/cli/command_words.py).

Each script walks the words typed so far to the deepest place they name (`procclaw
daemon`, `procclaw daemon start`), then offers that place's options after a `-`, a job
id or a tag after an option that takes one, else its subcommands and, where a command
takes jobs, the job ids. It asks `procclaw completion --ids` (or `--tags`) for those
(quietly: an error completes nothing).
"""

from __future__ import annotations

from procclaw.cli.command_words import EVERYWHERE, places

BASH = """\
# procclaw completion for bash. Load it from ~/.bashrc:
#   source <(procclaw completion bash)
# or save it as ~/.local/share/bash-completion/completions/procclaw

@TABLE@

__procclaw_list() {
    "${COMP_WORDS[0]}" completion "$1" 2>/dev/null
}

_procclaw() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local _pc_words _pc_options _pc_jobs _pc_job_options _pc_tag_options kind
    __procclaw_walk "${COMP_WORDS[@]:1:COMP_CWORD-1}"
    # bash splits `--job=web` into three words at the `=`.
    if [[ $cur == = ]]; then
        cur=""
    elif [[ $prev == = ]]; then
        prev=${COMP_WORDS[COMP_CWORD-2]}
    fi
    kind=$(__procclaw_kind "$prev")
    if [[ -n $kind ]]; then
        COMPREPLY=($(compgen -W "$(__procclaw_list "$kind")" -- "$cur"))
    elif [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$_pc_options" -- "$cur"))
    else
        local candidates=$_pc_words
        if [[ -n $_pc_jobs ]]; then candidates+=" $(__procclaw_list --ids)"; fi
        COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
    fi
}

complete -F _procclaw procclaw
"""

ZSH = """\
#compdef procclaw
# procclaw completion for zsh. Load it from ~/.zshrc, after compinit:
#   source <(procclaw completion zsh)
# or save it as _procclaw in a directory on $fpath.

@TABLE@

__procclaw_list() {
    ${words[1]} completion "$1" 2>/dev/null
}

_procclaw() {
    local cur=${words[CURRENT]} prev=${words[CURRENT-1]}
    local _pc_words _pc_options _pc_jobs _pc_job_options _pc_tag_options kind
    __procclaw_walk "${(@)words[2,CURRENT-1]}"
    if [[ $cur == --*=* ]] && kind=$(__procclaw_kind "${cur%%=*}") && [[ -n $kind ]]; then
        compset -P '*='
        compadd -- $(__procclaw_list $kind)
    elif kind=$(__procclaw_kind "$prev") && [[ -n $kind ]]; then
        compadd -- $(__procclaw_list $kind)
    elif [[ $cur == -* ]]; then
        compadd -- ${=_pc_options}
    else
        compadd -- ${=_pc_words}
        if [[ -n $_pc_jobs ]]; then compadd -- $(__procclaw_list --ids); fi
    fi
}

if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
    _procclaw "$@"  # autoloaded from $fpath
else
    compdef _procclaw procclaw
fi
"""

FISH = """\
# procclaw completion for fish. Save it where fish finds it:
#   procclaw completion fish > ~/.config/fish/completions/procclaw.fish

@TABLE@

function __procclaw_list
    set -l program (commandline -opc)[1]
    command $program completion $argv[1] 2>/dev/null
end

# What an option's value is: job ids (--ids), tags (--tags), or nothing to complete.
function __procclaw_kind
    if contains -- $argv[1] $__pc_job_options
        echo --ids
    else if contains -- $argv[1] $__pc_tag_options
        echo --tags
    end
end

function __procclaw_complete
    set -l typed (commandline -opc)
    set -l cur (commandline -ct)
    set -l place ''
    for word in $typed[2..-1]
        string match -q -- '-*' $word; and continue
        set -l next (string trim -- "$place $word")
        __procclaw_place $next; and set place $next
    end
    __procclaw_place $place
    set -l option (string split -m 1 = -- $cur)[1]
    set -l kind (__procclaw_kind $option)
    set -l after (__procclaw_kind "$typed[-1]")
    if string match -q -- '--*=*' $cur; and test -n "$kind"
        for value in (__procclaw_list $kind)
            echo "$option=$value"
        end
    else if test -n "$after"
        __procclaw_list $after
    else if string match -q -- '-*' $cur
        printf '%s\\n' $__pc_options
    else
        printf '%s\\n' $__pc_words
        test -n "$__pc_jobs"; and __procclaw_list --ids
    end
end

complete -c procclaw -f -a '(__procclaw_complete)'
"""

# For bash and zsh: the values of the deepest place the words typed so far name.
WALK = """\
__procclaw_walk() {
    local place="" next word
    for word in "$@"; do
        next=${place:+$place }$word
        if [[ $word != -* ]] && __procclaw_place "$next"; then place=$next; fi
    done
    __procclaw_place "$place"
}

# What an option's value is: job ids (--ids), tags (--tags), or nothing to complete.
__procclaw_kind() {
    if [[ " $_pc_job_options " == *" $1 "* ]]; then
        echo --ids
    elif [[ " $_pc_tag_options " == *" $1 "* ]]; then
        echo --tags
    fi
}"""

SHELLS = ("bash", "zsh", "fish")


def script(shell: str) -> str:
    template = {"bash": BASH, "zsh": ZSH, "fish": FISH}[shell]
    return template.replace("@TABLE@", _table(fish=shell == "fish"))


def _table(fish: bool) -> str:
    """A function setting what may follow a place (its words, options, whether job ids,
    which options take one, which take a tag), and false for no place: a `switch` for
    fish, a `case` for bash and zsh, which set plain strings that they split."""
    if fish:
        lines = ["function __procclaw_place", "    switch $argv[1]"]
    else:
        lines = ["__procclaw_place() {", '    case "$1" in']
    for key, place in sorted(places().items()):
        lines.append(f"        case '{key}'" if fish else f'        "{key}")')
        values = {
            "words": sorted(place.words),
            "options": sorted(place.options | set(EVERYWHERE)),
            "jobs": ["yes"] if place.jobs else [],
            "job_options": sorted(place.job_options),
            "tag_options": sorted(place.tag_options),
        }
        for name, words in values.items():
            text = " ".join(words)
            lines.append(
                f"            set -g __pc_{name} {text}"
                if fish
                else f'            _pc_{name}="{text}"'
            )
        if not fish:
            lines[-1] += " ;;"
    if fish:
        lines += ["        case '*'", "            return 1", "    end", "end"]
    else:
        lines += ["        *) return 1 ;;", "    esac", "}", "", WALK]
    return "\n".join(lines)
