#!/usr/bin/env bash
# A narrated walkthrough of ecs-emulator: it starts a server, then — with `ecs-emulator call`
# alone, no SDK — shows the happy path of the disk default-encryption family, what it does to
# a disk created afterwards, and every documented error of the family, each from the demo
# account of the default fixture that is made for it.
# Each step checks the answer it narrates, so the script doubles as a test (exit 1 on a
# surprise).
#
#   examples/demo.sh                     # builds target/release/ecs-emulator if needed
#   ECS_EMULATOR_BIN=path examples/demo.sh
#   DEMO_PAUSE=2 examples/demo.sh        # seconds between steps, for an audience
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bin=${ECS_EMULATOR_BIN:-target/release/ecs-emulator}
if [[ ! -x $bin ]]; then
  echo "building $bin …"
  cargo build --release --quiet
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
listen="127.0.0.1:$port"
"$bin" serve --listen "$listen" --log-format json 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do "$bin" healthcheck --listen "$listen" >/dev/null 2>&1 && break; sleep 0.1; done

bold=$(tput bold 2>/dev/null || true); plain=$(tput sgr0 2>/dev/null || true)
say() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; sleep "${DEMO_PAUSE:-0}"; }

# expect CODE AK SECRET -- ACTION Key=Value…   (CODE "ok" for a success); the answer stays in $out
out=
expect() {
  local code=$1 ak=$2 secret=$3; shift 4
  local shown=() arg
  for arg in "$@"; do  # quoted as a shell needs it, to be pasted
    if [[ $arg =~ [^A-Za-z0-9=_./:-] ]]; then shown+=("'$arg'"); else shown+=("$arg"); fi
  done
  echo "\$ ecs-emulator call ${shown[*]} --access-key-id $ak"
  out=$("$bin" call --listen "$listen" --access-key-id "$ak" --access-key-secret "$secret" "$@" || true)
  echo "$out" | sed 's/^/  /'
  if [[ $code == ok ]]; then
    [[ $out == "HTTP 200"* ]] || { echo "demo: expected success" >&2; exit 1; }
  else
    grep -q "\"Code\": \"$code\"" <<<"$out" || { echo "demo: expected $code" >&2; exit 1; }
  fi
}

# shows '"Name": value' — the last answer holds that field, as printed
shows() {
  grep -qF "$1" <<<"$out" || { echo "demo: expected $1 in the answer" >&2; exit 1; }
}

default=(LTAI5tTestAccessKey01 TestSecret01)
hz=RegionId=cn-hangzhou

say "The happy path, as the default account (${default[0]})"
expect ok "${default[@]}" -- DescribeDiskEncryptionByDefaultStatus $hz
expect ok "${default[@]}" -- EnableDiskEncryptionByDefault $hz
expect ok "${default[@]}" -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=alias/demo
expect ok "${default[@]}" -- DescribeDiskDefaultKMSKeyId $hz
expect ok "${default[@]}" -- ResetDiskDefaultKMSKeyId $hz
expect ok "${default[@]}" -- DisableDiskEncryptionByDefault $hz

say "What default encryption is for: a disk created afterwards is encrypted with the default key"
expect ok "${default[@]}" -- EnableDiskEncryptionByDefault $hz
expect ok "${default[@]}" -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=alias/demo
expect ok "${default[@]}" -- CreateDisk $hz ZoneId=cn-hangzhou-h DiskCategory=cloud_essd Size=40
disk=$(sed -n 's/^ *"DiskId": "\(d-[0-9a-z]*\)".*/\1/p' <<<"$out")
[[ -n $disk ]] || { echo "demo: no DiskId in the answer" >&2; exit 1; }
# DiskIds is one parameter holding a JSON array.
expect ok "${default[@]}" -- DescribeDisks $hz "DiskIds=[\"$disk\"]"
shows '"TotalCount": 1'
shows '"Encrypted": true'
shows '"KMSKeyId": "key-hzz65e1c1f1wh3ka4wq4e"'
say "A disk that may not be unencrypted while default encryption is on"
expect InvalidEncrypted.NotMatchDiskDefaultEncryption "${default[@]}" -- CreateDisk $hz ZoneId=cn-hangzhou-h DiskCategory=cloud_essd Size=40 Encrypted=false
say "A category the zone does not offer (the fixture's cn-hangzhou-k: cloud_essd and cloud_auto only)"
expect InvalidDataDiskCategory.NotSupported "${default[@]}" -- CreateDisk $hz ZoneId=cn-hangzhou-k DiskCategory=cloud Size=40
expect ok "${default[@]}" -- DeleteDisk DiskId=$disk
expect ok "${default[@]}" -- DisableDiskEncryptionByDefault $hz

say "A required parameter left out"
expect MissingParameter "${default[@]}" -- EnableDiskEncryptionByDefault
say "A region that does not exist"
expect InvalidParameter.RegionIdNotExists "${default[@]}" -- EnableDiskEncryptionByDefault RegionId=cn-atlantis
say "A region without default encryption (the fixture's choice: ap-south-1)"
expect Abs.InvalidAction.RegionNotSupport "${default[@]}" -- EnableDiskEncryptionByDefault RegionId=ap-south-1
say "Changing the key while the feature is off"
expect InvalidDefaultEncryption.NotFound "${default[@]}" -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=alias/demo
say "An account not on the disk whitelist"
expect UserNotInTheWhiteList LTAI5tDemoNotWhitelisted DemoSecretNotWhitelisted -- EnableDiskEncryptionByDefault $hz
say "An account that never activated KMS"
expect InvalidOperation.KMSServiceNotOpen LTAI5tDemoKmsServiceOff DemoSecretKmsServiceOff -- EnableDiskEncryptionByDefault $hz
say "KMS not enabled for the account in this region"
expect InvalidParameter.Encrypted.KmsNotEnabled LTAI5tDemoKmsRegionOff DemoSecretKmsRegionOff -- EnableDiskEncryptionByDefault $hz
say "ECS never granted the AliyunECSDiskEncryptDefaultRole"
expect InvalidParameter.KMSKeyId.KMSUnauthorized LTAI5tDemoRoleNotGranted DemoSecretRoleNotGranted -- EnableDiskEncryptionByDefault $hz
say "A key ECS is not authorized to use"
expect InvalidParameter.KMSKeyId.KMSUnauthorized LTAI5tDemoKeyUnauthorized DemoSecretKeyUnauthorized -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=key-hzz1unauthorized000001
say "A disabled key"
expect InvalidParameter.KMSKeyId.CMKNotEnabled LTAI5tDemoKeyDisabled DemoSecretKeyDisabled -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=key-hzz1disabled0000000001
say "Enabling what is already enabled"
expect InvalidOperation.DefaultEncryptionAlreadyEnabled LTAI5tDemoEncryptionOn DemoSecretEncryptionOn -- EnableDiskEncryptionByDefault $hz
say "A key that does not exist (in this account and region)"
expect InvalidOperation.KMSKeyIdNotFound LTAI5tDemoEncryptionOn DemoSecretEncryptionOn -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=key-doesnotexist
say "A RAM user with AliyunECSFullAccess: ModifyDiskDefaultKMSKeyId is for root identities only"
expect Forbidden.RAM LTAI5tDemoRamEcsAdmin DemoSecretRamEcsAdmin -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=key-hzz1ramdemo00000000001
say "… while the account's root may"
expect ok LTAI5tDemoRamRoot DemoSecretRamRoot -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=key-hzz1ramdemo00000000001
say "A read-only RAM user may describe, not enable"
expect ok LTAI5tDemoRamEcsReader DemoSecretRamEcsReader -- DescribeDiskEncryptionByDefaultStatus $hz
expect Forbidden.RAM LTAI5tDemoRamEcsReader DemoSecretRamEcsReader -- EnableDiskEncryptionByDefault $hz
say "DescribeRegions in a language it does not speak"
expect InvalidAcceptLanguage.NotFound "${default[@]}" -- DescribeRegions AcceptLanguage=fr-FR

say "Authentication: a wrong secret, an inactive key, an expired STS token"
expect SignatureDoesNotMatch LTAI5tTestAccessKey01 NotTheSecret -- DescribeRegions
expect Forbidden.AccessKeyDisabled LTAI5tDemoInactiveKey01 DemoSecretInactive01 -- DescribeRegions
echo "\$ ecs-emulator call DescribeRegions --access-key-id STS.DemoExpired01 --security-token …"
out=$("$bin" call --listen "$listen" --access-key-id STS.DemoExpired01 --access-key-secret DemoSecretStsExpired01 --security-token CAIDemoSecurityTokenExpired01 DescribeRegions || true)
echo "$out" | sed 's/^/  /'
grep -q '"Code": "InvalidSecurityToken.Expired"' <<<"$out" || { echo "demo: expected InvalidSecurityToken.Expired" >&2; exit 1; }

say "KMS and ECS together: disable the key in KMS, and ECS refuses it"
expect ok "${default[@]}" -- EnableDiskEncryptionByDefault $hz
expect ok "${default[@]}" -- --api-version 2016-01-20 DisableKey KeyId=alias/demo
expect InvalidParameter.KMSKeyId.CMKNotEnabled "${default[@]}" -- ModifyDiskDefaultKMSKeyId $hz KMSKeyId=alias/demo

say "STS: who am I, and a RAM role assumed by the deployer user"
sts=(--api-version 2015-04-01)
deployer=(LTAI5tDemoDeployer01 DemoSecretDeployer01)
role=RoleArn=acs:ram::1234567890123456:role/ecs-operator
expect ok "${deployer[@]}" -- "${sts[@]}" GetCallerIdentity
shows '"IdentityType": "RAMUser"'
expect NoPermission "${default[@]}" -- "${sts[@]}" AssumeRole $role RoleSessionName=demo
expect EntityNotExist.Role "${deployer[@]}" -- "${sts[@]}" AssumeRole RoleArn=acs:ram::1234567890123456:role/nobody RoleSessionName=demo
expect ok "${deployer[@]}" -- "${sts[@]}" AssumeRole $role RoleSessionName=demo
field() { sed -n "s/^ *\"$1\": \"\([^\"]*\)\".*/\1/p" <<<"$out"; }
session=("$(field AccessKeyId)" "$(field AccessKeySecret)")
token=$(field SecurityToken)
[[ -n ${session[0]} && -n $token ]] || { echo "demo: no credentials in the answer" >&2; exit 1; }
expect ok "${session[@]}" -- --security-token "$token" "${sts[@]}" GetCallerIdentity
shows '"Arn": "acs:ram::1234567890123456:assumed-role/ecs-operator/demo"'
say "… the role may use ECS, but it is never root"
expect ok "${session[@]}" -- --security-token "$token" DescribeDiskEncryptionByDefaultStatus $hz
expect Forbidden.RAM "${session[@]}" -- --security-token "$token" ModifyDiskDefaultKMSKeyId $hz KMSKeyId=alias/demo

say "Done: every documented error of the family and two of disks, from the default fixture alone"
