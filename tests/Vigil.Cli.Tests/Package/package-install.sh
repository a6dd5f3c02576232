#!/usr/bin/env bash
# Installs, uses, removes and purges the .deb in a throwaway root: run under `unshare -m --propagation private`, it
# puts an overlay over /etc, /opt, /usr and /var whose writes land in a tmpfs under $2, so dpkg's database, the
# package's files and everything its scripts create vanish with the mount namespace. Prints what the test checks.
set -uo pipefail
deb="$1" scratch="$2" eicar="$3"
mount -t tmpfs -o size=3g tmpfs "$scratch/upper" || exit 90
for d in etc opt usr var; do
  mkdir -p "$scratch/upper/$d/u" "$scratch/upper/$d/w"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$scratch/upper/$d/u,workdir=$scratch/upper/$d/w" "/$d" || exit 91
done
# Inside the overlay, on the same filesystem as the data directories: a removal renames into their vaults.
watched=/var/tmp/vigil-package-test
mkdir -p "$watched"

# A Wazuh agent on this host: its active-response directory and a configuration watching $watched.
mkdir -p /var/ossec/active-response/bin /var/ossec/etc /var/ossec/logs
printf '<ossec_config>\n  <syscheck>\n    <directories realtime="yes">%s</directories>\n  </syscheck>\n</ossec_config>\n' "$watched" > /var/ossec/etc/ossec.conf

message() { # file, md5
  printf '{"version":1,"origin":{"name":"node01","module":"wazuh-execd"},"command":"add","parameters":{"extra_args":[],"program":"active-response/bin/vigil-remove-threat","alert":{"id":"1700000000.1","rule":{"id":"87105","level":12},"agent":{"id":"000","name":"host"},"data":{"virustotal":{"source":{"file":"%s","md5":"%s","alert_id":"1700000000.0"}}}}}}\n{"command":"continue"}\n' "$1" "$2"
}

echo "== install"
dpkg -i "$deb" >"$scratch/dpkg-i.log" 2>&1; echo "dpkg-i=$?"
stat -c 'mode %a %U:%G %n' /var/lib/vigil /var/log/vigil /etc/vigil /etc/vigil/ossec.conf /opt/vigil/active-response/bin/remove-threat /var/ossec/active-response/bin/vigil-remove-threat /usr/bin/vigil
echo "state-logs -> $(readlink /var/lib/vigil/logs)"
echo "version=$(vigil --version)"
vigil config check >"$scratch/config-check.log" 2>&1; echo "config-check=$?"
cat "$scratch/config-check.log"
cp "$eicar" "$watched/scan-me.com"
vigil scan "$watched" >"$scratch/scan.log" 2>&1; echo "scan=$?"
cat "$scratch/scan.log"
cp "$eicar" "$watched/wazuh.com"
message "$watched/wazuh.com" "$(md5sum "$eicar" | cut -d' ' -f1)" | (cd /var/ossec && env -i PATH=/usr/bin:/bin /var/ossec/active-response/bin/vigil-remove-threat) >/dev/null; echo "wazuh-remove-threat=$?"
[ -e "$watched/wazuh.com" ] && echo "wazuh-file=still-there" || echo "wazuh-file=gone"
grep -c 'Successfully removed threat' /var/ossec/logs/active-responses.log | sed 's/^/wazuh-log-success=/'
vigil quarantine list --data-dir /var/ossec/.vigil 2>&1 | grep -c 'wazuh.com' | sed 's/^/wazuh-quarantined=/'

list() { find /opt/vigil /usr/bin/vigil /lib/systemd/system/vigil-agent.service /lib/systemd/system/vigil-manager.service /etc/vigil /var/lib/vigil /var/log/vigil /var/ossec/active-response/bin/vigil-remove-threat /usr/share/doc/vigil -maxdepth 0 2>/dev/null | sort; }
# A response through the installed program into the package's own state, as the agent's execd runs it.
cp "$eicar" "$watched/agent.com"
message "$watched/agent.com" "$(md5sum "$eicar" | cut -d' ' -f1)" | vigil remove-threat --allow "$watched" --data-dir /var/lib/vigil >/dev/null; echo "state-remove-threat=$?"
vigil quarantine list --data-dir /var/lib/vigil 2>&1 | grep -c 'agent.com' | sed 's/^/state-quarantined=/'

echo "== remove"
dpkg -r vigil >"$scratch/dpkg-r.log" 2>&1; echo "dpkg-r=$?"
list | sed 's/^/left /'
find /etc/vigil -type f | sort | sed 's/^/left-file /'
find /var/lib/vigil -mindepth 1 -maxdepth 1 2>/dev/null | sort | sed 's/^/left-state /'
find /var/lib/vigil/vault -type f 2>/dev/null | wc -l | sed 's/^/left-vault-files=/'
grep -h 'quarantine is kept' "$scratch/dpkg-r.log" | sed 's/^/said: /'
echo "status=$(dpkg-query -W -f='${Status}' vigil 2>&1)"
echo "== purge"
dpkg -P vigil >"$scratch/dpkg-p.log" 2>&1; echo "dpkg-p=$?"
list | sed 's/^/left /'
echo "status=$(dpkg-query -W -f='${Status}' vigil 2>/dev/null || echo not-installed)"
echo "== reinstall"
dpkg -i "$deb" >"$scratch/dpkg-i2.log" 2>&1; echo "dpkg-i=$?"
vigil scan "$watched" >/dev/null 2>&1; echo "scan=$?"
echo "== remove-empty"
dpkg -r vigil >"$scratch/dpkg-r2.log" 2>&1; echo "dpkg-r=$?"
list | sed 's/^/left /'
dpkg -P vigil >"$scratch/dpkg-p2.log" 2>&1; echo "dpkg-p=$?"
echo "== end"
