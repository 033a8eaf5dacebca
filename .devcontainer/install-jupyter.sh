#!/usr/bin/env bash
# Real Jupyter with the .NET (C#) kernel: the route that outlives Polyglot Notebooks (deprecated in 2026).
# Used by the dev containers and by CI (.ci/run), so the route learners use is the route the tests execute.
set -euo pipefail
INTERACTIVE_VERSION=1.0.712001   # the dotnet-interactive tool the course is tested with

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo"; fi
if ! command -v jupyter-nbconvert >/dev/null 2>&1; then
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends jupyter-nbconvert python3-ipykernel
fi

tools="$HOME/.dotnet/tools"
if ! "$tools/dotnet-interactive" --version 2>/dev/null | grep -q "^$INTERACTIVE_VERSION"; then
  dotnet tool uninstall -g Microsoft.dotnet-interactive >/dev/null 2>&1 || true
  dotnet tool install -g Microsoft.dotnet-interactive --version "$INTERACTIVE_VERSION"
fi
mkdir -p "$HOME/.local/share/jupyter/kernels"
PATH="$PATH:$tools" dotnet interactive jupyter install
echo "Jupyter kernels:"; ls "$HOME/.local/share/jupyter/kernels"
