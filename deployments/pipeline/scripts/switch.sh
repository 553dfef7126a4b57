# shellcheck shell=sh
# The switch in one round trip (deployments/pipeline/commands.py activate, restore_current):
# print the old target (for the switch back), remove a leftover temp link of a killed deploy,
# build the new link, rename it over `current` (rename(2): never a moment without `current`).
# Usage: sh -c "$(cat switch.sh)" sh CURRENT TEMP TARGET
current=$1 temp=$2 target=$3
previous=$(readlink -- "$current") && printf '%s\n' "$previous"
rm -f -- "$temp" && ln -s -T -- "$target" "$temp" && mv -T -f -- "$temp" "$current"
