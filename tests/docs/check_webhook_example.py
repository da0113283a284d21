#!/usr/bin/env python3
"""The receiver's check in docs/configuration.md ("Receiving webhooks") against a signature
otpd makes (the same vector is checked against webhook_signature() in
tests/daemon/webhook/webhook_sender_test.cpp): it accepts it within 5 minutes either way, and
refuses it older or newer, with another body, another secret or a malformed header.

usage: check_webhook_example.py docs/configuration.md
"""
import re
import sys

SECRET = b"whsec-0123456789abcdef"
T = 1764770400
BODY = b'{"event":"verification.approved","id":"v1"}'
HEADER = "t=1764770400,v1=b0e4ba62b727d47ff5155c90269de023a6c6881ecb39922387614398a027de0e"


def main(path):
    text = open(path, encoding="utf-8").read()
    section = text.split("#### Receiving webhooks", 1)
    if len(section) != 2:
        sys.exit(f"{path}: no 'Receiving webhooks' section")
    block = re.search(r"```python\n(.*?)```", section[1], re.S)
    if not block:
        sys.exit(f"{path}: no python example under 'Receiving webhooks'")
    scope = {}
    exec(block.group(1), scope)  # the documentation's own code
    verify = scope["verify_otpd_webhook"]
    cases = [
        (True, SECRET, HEADER, BODY, T),
        (True, SECRET, HEADER, BODY, T + 299),
        (True, SECRET, HEADER, BODY, T - 299),
        (False, SECRET, HEADER, BODY, T + 301),  # a replay 5 minutes later
        (False, SECRET, HEADER, BODY, T - 301),
        (False, SECRET, HEADER, BODY + b" ", T),
        (False, b"another-secret-0123", HEADER, BODY, T),
        (False, SECRET, HEADER.replace("t=1764770400", "t=1764770401"), BODY, T),
        (False, SECRET, "v1=b0e4", BODY, T),
        (False, SECRET, "garbage", BODY, T),
    ]
    failed = 0
    for want, secret, header, body, now in cases:
        got = verify(secret, header, body, now=now)
        if got != want:
            failed += 1
            print(f"verify({header!r}, now=T{now - T:+d}) is {got}, expected {want}")
    if failed:
        sys.exit(1)
    print(f"OK: {len(cases)} cases")


if __name__ == "__main__":
    main(sys.argv[1])
