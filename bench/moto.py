"""moto's server (the AWS emulator) as an optional point of comparison, used by
`bench/run.sh --with-moto`: it answers EC2 ModifyEbsDefaultKmsKeyId, the AWS analogue of
ModifyDiskDefaultKMSKeyId, signed as an AWS SDK would sign it (moto does not check signatures).
"""
import os, subprocess, sys

VERSION = "5.2.5"
DATE = "20260101T000000Z"
BODY = "Action=ModifyEbsDefaultKmsKeyId&Version=2016-11-15&KmsKeyId=alias%2Faws%2Febs"
HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    "X-Amz-Date": DATE,
    "Authorization": f"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/{DATE[:8]}/us-east-1/ec2/aws4_request, "
                     "SignedHeaders=content-type;host;x-amz-date, "
                     "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
}


def installed(venv):
    """Whether the venv's Python imports moto's server at the pinned version (-I: not this file)."""
    check = f"import moto, moto.server, sys; sys.exit(moto.__version__ != {VERSION!r})"
    python = os.path.join(venv, "bin", "python")
    return os.path.exists(python) and subprocess.run([python, "-I", "-c", check], capture_output=True, timeout=60).returncode == 0


def ensure_moto(root):
    """Installs moto's server into <root>/bench/.moto-venv unless there; returns its moto_server."""
    venv = os.path.join(os.path.abspath(root), "bench", ".moto-venv")
    executable = os.path.join(venv, "bin", "moto_server")
    if os.path.exists(executable) and installed(venv):
        return executable
    print(f"bench: installing moto {VERSION} into bench/.moto-venv", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    pip = [os.path.join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run(pip + [f"moto[server]=={VERSION}"], check=True, timeout=600)
    return executable


def moto_argv(executable):
    """moto's server on loopback, with "{port}" for measure.py to fill in."""
    return [executable, "-H", "127.0.0.1", "-p", "{port}"]


def probe():
    """(method, path, headers, body) of ModifyEbsDefaultKmsKeyId, as Server.ok() sends it."""
    return "POST", "/", dict(HEADERS), BODY


def wrk_script():
    """A wrk script sending the very request of probe()."""
    lines = ['wrk.method = "POST"', 'wrk.path = "/"', f'wrk.body = "{BODY}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in HEADERS.items()]
    return "\n".join(lines) + "\n"
