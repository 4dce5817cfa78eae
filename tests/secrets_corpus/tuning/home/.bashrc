# ~/.bashrc: executed by bash(1) for non-login shells.
case $- in
    *i*) ;;
      *) return;;
esac

HISTCONTROL=ignoreboth
HISTSIZE=1000
alias ll='ls -alF'
alias gs='git status'

export EDITOR=vim
export PATH="$HOME/.local/bin:$PATH"

# cloud
export AWS_ACCESS_KEY_ID=⟦aws-access-key-id⟧
export AWS_SECRET_ACCESS_KEY=⟦aws-secret-access-key⟧
export AWS_DEFAULT_REGION=us-east-1

# irc bouncer
export IRC_NICK=mara
export IRC_PASS=⟦password⟧

export GITHUB_TOKEN=⟦github-pat⟧
export HF_TOKEN="⟦huggingface-token⟧"
export OPENAI_API_KEY='⟦openai-key⟧'
export NVM_DIR="$HOME/.nvm"
[ -s "$NVM_DIR/nvm.sh" ] && \. "$NVM_DIR/nvm.sh"
