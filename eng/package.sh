#!/usr/bin/env bash
# Builds Vigil's Debian package: artifacts/package/vigil_<version>_amd64.deb.
#   eng/package.sh                 the native remove-threat, the self-contained vigil, then the .deb
#   eng/package.sh --native-only   only the native remove-threat (artifacts/package/native/vigil-remove-threat)
# Needs the .NET SDK, clang (NativeAOT links with it) and dpkg-deb. Nothing is downloaded at run time; NuGet restores
# the runtime packs once. The version is Directory.Build.props' <Version>.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

native_only=0
case "${1:-}" in
  --native-only) native_only=1 ;;
  "") ;;
  *) echo "package.sh: unknown option '$1' (use --native-only or nothing)" >&2; exit 2 ;;
esac

version="$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props)"
[ -n "$version" ] || { echo "package.sh: no <Version> in Directory.Build.props" >&2; exit 1; }
out="$here/artifacts/package"
mkdir -p "$out"

publish() { # project, output directory, extra arguments...
  local project="$1" dir="$2"; shift 2
  rm -rf "$dir"
  dotnet publish "$project" -c Release -r linux-x64 --nologo -v quiet -clp:ErrorsOnly -o "$dir" "$@"
}

command -v clang >/dev/null || { echo "package.sh: clang is needed for the native remove-threat (apt-get install clang)" >&2; exit 1; }
publish src/Vigil.RemoveThreat/Vigil.RemoveThreat.csproj "$out/native"
rm -f "$out/native/"*.dbg "$out/native/"*.pdb "$out/native/"*.xml
[ "$native_only" -eq 1 ] && { echo "package.sh: $out/native/vigil-remove-threat"; exit 0; }

command -v dpkg-deb >/dev/null || { echo "package.sh: dpkg-deb is needed (apt-get install dpkg-dev)" >&2; exit 1; }
# ReadyToRun: precompiled, so that one-shot commands (vigil scan, remove-threat through vigil) start in about half the time.
publish src/Vigil.Cli/Vigil.Cli.csproj "$out/vigil" --self-contained -p:PublishReadyToRun=true
rm -f "$out/vigil/"*.pdb "$out/vigil/"*.xml

# The tree as installed (README.md, "Installing the package": the layout and why).
root="$out/root"
rm -rf "$root"
install -d -m 0755 "$root/DEBIAN" "$root/opt/vigil/active-response/bin" "$root/opt/vigil/share/wazuh" "$root/usr/bin" \
  "$root/lib/systemd/system" "$root/usr/share/doc/vigil" "$root/usr/share/man/man1" "$root/usr/share/lintian/overrides"
install -d -m 0755 "$root/etc/vigil" "$root/etc/vigil/rules" "$root/etc/vigil/decoders"
cp -a "$out/vigil" "$root/opt/vigil/bin"
# The publish leaves 0744 everywhere: libraries and assemblies are data (0644), the two programs 0755.
find "$root/opt/vigil/bin" -type f -exec chmod 0644 {} +
chmod 0755 "$root/opt/vigil/bin/vigil" "$root/opt/vigil/bin/createdump"
cp -a ruleset "$root/opt/vigil/ruleset"
install -m 0755 "$out/native/vigil-remove-threat" "$root/opt/vigil/active-response/bin/remove-threat"
install -m 0644 "$out/native/libe_sqlite3.so" "$root/opt/vigil/active-response/bin/libe_sqlite3.so"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/opt/vigil/bin/libe_sqlite3.so" "$root/opt/vigil/active-response/bin/libe_sqlite3.so"
install -m 0755 active-response/bin/remove-threat.sh "$root/opt/vigil/active-response/bin/remove-threat.sh"
install -m 0755 deploy/debian/vigil-remove-threat.wazuh "$root/opt/vigil/share/wazuh/vigil-remove-threat"
install -m 0644 README.md "$root/opt/vigil/README.md"
cp -a docs "$root/opt/vigil/docs"
# Configuration and logs live where an administrator looks; /opt/vigil names them as the home layout expects.
ln -s /etc/vigil "$root/opt/vigil/config"
ln -s /var/log/vigil "$root/opt/vigil/logs"
install -m 0640 config/ossec.conf "$root/etc/vigil/ossec.conf"
install -m 0644 config/rules/local_rules.xml "$root/etc/vigil/rules/local_rules.xml"
install -m 0644 config/decoders/local_decoder.xml "$root/etc/vigil/decoders/local_decoder.xml"
install -m 0755 deploy/debian/vigil "$root/usr/bin/vigil"
install -m 0644 deploy/systemd/vigil-agent.service deploy/systemd/vigil-manager.service "$root/lib/systemd/system/"
install -m 0644 deploy/debian/copyright "$root/usr/share/doc/vigil/copyright"
install -m 0644 deploy/debian/lintian-overrides "$root/usr/share/lintian/overrides/vigil"
stamp="$(git log -1 --format=%ct 2>/dev/null || echo 0)"
export SOURCE_DATE_EPOCH="$stamp"
sed "s/@VERSION@/$version/; s/@DATE@/$(date -u -R -d "@$stamp")/" deploy/debian/changelog | gzip -9n > "$root/usr/share/doc/vigil/changelog.gz"
sed "s/@VERSION@/$version/" deploy/debian/vigil.1 | gzip -9n > "$root/usr/share/man/man1/vigil.1.gz"
chmod 0644 "$root/usr/share/doc/vigil/changelog.gz" "$root/usr/share/man/man1/vigil.1.gz"

for f in conffiles postinst prerm postrm; do
  install -m "$([ "$f" = conffiles ] && echo 0644 || echo 0755)" "deploy/debian/$f" "$root/DEBIAN/$f"
done
size="$(du -sk --exclude=DEBIAN "$root" | cut -f1)"
sed "s/@VERSION@/$version/; s/@SIZE@/$size/" deploy/debian/control > "$root/DEBIAN/control"

deb="$out/vigil_${version}_amd64.deb"
rm -f "$out"/vigil_*_amd64.deb
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "package.sh: $deb"
