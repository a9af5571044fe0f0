# Sourced by the scripts that check for (and with --install, install) the Debian packages an
# independent checker needs. The caller defines `missing`, which prints the name of each
# package whose tool is not there, one per line, and then calls
#   debian_tools "$0" "${1:-}"
# which installs what is missing when asked to, and exits 1 naming what is still missing.

debian_tools() {
  local script=$1 mode=$2 need
  case "$mode" in
    --install)
      mapfile -t need < <(missing)
      if [ ${#need[@]} -gt 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
      fi
      ;;
    "") ;;
    *)
      echo "usage: $script [--install]" >&2
      exit 2
      ;;
  esac
  mapfile -t need < <(missing)
  if [ ${#need[@]} -gt 0 ]; then
    echo "error: missing Debian packages: ${need[*]}; run: bash $script --install" >&2
    exit 1
  fi
}
