# Sourced by the checks that read primetime's files with a reader it did not write, from npm.
# npm_reader NAME PACKAGE VERSION: installs PACKAGE@VERSION once into a cache directory named
# after NAME, and sets NODE_PATH to it; it fails without node and npm.
npm_reader() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "no node and npm: install Node.js to check with an independent reader ($2)"; exit 1
  fi
  local dir=${XDG_CACHE_HOME:-$HOME/.cache}/primetime-$1
  if [ ! -d "$dir/node_modules/$2" ]; then
    mkdir -p "$dir"
    npm install --silent --no-audit --no-fund --prefix "$dir" "$2@$3" >/dev/null
  fi
  export NODE_PATH=$dir/node_modules
}
