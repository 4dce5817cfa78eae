export ZSH="$HOME/.oh-my-zsh"
ZSH_THEME="robbyrussell"
plugins=(git docker kubectl)
source $ZSH/oh-my-zsh.sh

export DIGITALOCEAN_ACCESS_TOKEN=⟦digitalocean-token⟧
export ANTHROPIC_API_KEY=⟦anthropic-key⟧
export VAULT_ADDR=https://vault.internal:8200
export VAULT_TOKEN=⟦vault-token⟧
export SENTRY_AUTH_TOKEN=⟦sentry-auth-token⟧
export GPG_TTY=$(tty)
export HOMEBREW_GITHUB_API_TOKEN=⟦~$(security find-generic-password -s homebrew -w)⟧
