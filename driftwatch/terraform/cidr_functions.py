"""Terraform's ``cidrhost``, ``cidrnetmask``, ``cidrsubnet`` and ``cidrsubnets``.

A module may name a table after a subnet it computes; the value must be Terraform's. Terraform
parses prefixes with Go 1.16's net.ParseCIDR (leading zeros allowed: ``010.0.0.0/8`` is
10.0.0.0/8), computes with apparentlymart/go-cidr and prints with Go's net.IP. Their quirks
are kept because they are Terraform's answers (``cidrsubnet("10.1.2.0/24", 2, -1)`` is
``0.0.0.64/26``): addresses are handled as Go handles them, as 4- or 16-byte strings.
"""

from __future__ import annotations

from typing import Any

from driftwatch.terraform.functions import FunctionError, register, to_int, to_string

_V4_IN_V6 = bytes(10) + b"\xff\xff"
_BIG = 0xFFFFFF


class _Net:
    """Go's net.IPNet: an address (4 or 16 bytes) and a mask (4 or 16 bytes, or none)."""

    def __init__(self, ip: bytes, mask: bytes | None) -> None:
        self.ip, self.mask = ip, mask


# --- Go's net package ------------------------------------------------------------------------


def _decimal(text: str) -> tuple[int, int]:
    """Go's dtoi: (value, digits read); the value is _BIG when too large."""
    value = read = 0
    while read < len(text) and "0" <= text[read] <= "9":
        value = value * 10 + int(text[read])
        read += 1
        if value >= _BIG:
            return _BIG, read
    return value, read


def _hexadecimal(text: str) -> tuple[int, int]:
    value = read = 0
    while read < len(text) and text[read] in "0123456789abcdefABCDEF":
        value = value * 16 + int(text[read], 16)
        read += 1
        if value >= _BIG:
            return _BIG, read
    return value, read


def _parse_v4(text: str) -> bytes | None:
    """Go 1.16's parseIPv4 (leading zeros allowed), as the 16-byte v4-in-v6 form."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    octets = []
    for part in parts:
        value, read = _decimal(part)
        if read == 0 or read != len(part) or value > 0xFF:
            return None
        octets.append(value)
    return _V4_IN_V6 + bytes(octets)


def _parse_v6(text: str) -> bytes | None:
    """Go's parseIPv6: hex groups, one "::", and an IPv4 address as the last 32 bits."""
    groups: list[int] = []
    ellipsis = -1
    if text.startswith("::"):
        ellipsis, text = 0, text[2:]
        if not text:
            return bytes(16)
    while len(groups) * 2 < 16:
        value, read = _hexadecimal(text)
        if read == 0 or value > 0xFFFF:
            return None
        if read < len(text) and text[read] == ".":
            if (ellipsis < 0 and len(groups) != 6) or len(groups) * 2 + 4 > 16:
                return None
            v4 = _parse_v4(text)
            if v4 is None:
                return None
            groups += [v4[12] << 8 | v4[13], v4[14] << 8 | v4[15]]
            text = ""
            break
        groups.append(value)
        text = text[read:]
        if not text:
            break
        if text[0] != ":" or len(text) == 1:
            return None
        text = text[1:]
        if text[0] == ":":
            if ellipsis >= 0:
                return None
            ellipsis, text = len(groups), text[1:]
            if not text:
                break
    if text:
        return None
    if len(groups) < 8:
        if ellipsis < 0:
            return None
        groups = groups[:ellipsis] + [0] * (8 - len(groups)) + groups[ellipsis:]
    elif ellipsis >= 0:
        return None
    return b"".join(group.to_bytes(2, "big") for group in groups)


def _parse_cidr(text: str) -> _Net:
    """Go 1.16's net.ParseCIDR: the network (host bits cleared) of ``addr/bits``."""
    address, slash, length = text.partition("/")
    error = FunctionError(f"invalid CIDR expression: invalid CIDR address: {text}")
    if not slash:
        raise error
    size = 4
    ip = _parse_v4(address)
    if ip is None:
        size, ip = 16, _parse_v6(address)
    bits, read = _decimal(length)
    if ip is None or read == 0 or read != len(length) or bits > size * 8:
        raise error
    mask = _cidr_mask(bits, size * 8)
    assert mask is not None
    network = _masked(ip, mask)
    assert network is not None
    return _Net(network, mask)


def _cidr_mask(ones: int, bits: int) -> bytes | None:
    if ones < 0 or ones > bits:
        return None
    value = ((1 << ones) - 1) << (bits - ones)
    return value.to_bytes(bits // 8, "big")


def _mask_size(mask: bytes) -> tuple[int, int]:
    """Go's IPMask.Size: (ones, bits), or (0, 0) for a mask that is not ones then zeros."""
    value, bits = int.from_bytes(mask, "big"), len(mask) * 8
    ones = bin(value).count("1")
    if value != ((1 << ones) - 1) << (bits - ones):
        return 0, 0
    return ones, bits


def _to4(ip: bytes) -> bytes | None:
    if len(ip) == 4:
        return ip
    if len(ip) == 16 and ip[:12] == _V4_IN_V6:
        return ip[12:]
    return None


def _masked(ip: bytes, mask: bytes) -> bytes | None:
    """Go's IP.Mask."""
    if len(mask) == 16 and len(ip) == 4 and mask[:12] == b"\xff" * 12:
        mask = mask[12:]
    if len(mask) == 4 and len(ip) == 16 and ip[:12] == _V4_IN_V6:
        ip = ip[12:]
    if len(ip) != len(mask):
        return None
    return bytes(a & b for a, b in zip(ip, mask, strict=True))


def _equal(ip: bytes, other: bytes) -> bool:
    if len(ip) == len(other):
        return ip == other
    short, long = (ip, other) if len(ip) == 4 else (other, ip)
    return len(short) == 4 and len(long) == 16 and long[:12] == _V4_IN_V6 and long[12:] == short


def _ip_string(ip: bytes | None) -> str:
    """Go's IP.String: dotted for IPv4 (and v4-in-v6), RFC 5952 for IPv6."""
    if not ip:
        return "<nil>"
    v4 = _to4(ip)
    if v4 is not None:
        return ".".join(str(octet) for octet in v4)
    groups = [int.from_bytes(ip[i : i + 2], "big") for i in range(0, 16, 2)]
    best_start, best_length = -1, 1
    start = 0
    while start < 8:
        end = start
        while end < 8 and groups[end] == 0:
            end += 1
        if end - start > best_length:
            best_start, best_length = start, end - start
        start = end + 1
    text = [format(group, "x") for group in groups]
    if best_start < 0:
        return ":".join(text)
    return ":".join(text[:best_start]) + "::" + ":".join(text[best_start + best_length :])


def _net_string(net: _Net) -> str:
    """Go's IPNet.String."""
    ip = _to4(net.ip)
    if ip is None:
        ip = net.ip if len(net.ip) == 16 else None
    mask = net.mask
    if ip is None or mask is None or len(mask) not in (4, 16) or (len(mask) == 4 and len(ip) != 4):
        return "<nil>"
    if len(mask) == 16 and len(ip) == 4:
        mask = mask[12:]
    return f"{_ip_string(ip)}/{_mask_size(mask)[0]}"  # masks made here are always canonical


def _contains(net: _Net, ip: bytes) -> bool:
    network = _to4(net.ip) or net.ip
    mask = net.mask or b""
    if len(mask) == 16 and len(network) == 4:
        mask = mask[12:]
    ip = _to4(ip) or ip
    if len(ip) != len(network) or len(mask) != len(ip):
        return False
    return all(n & m == a & m for n, m, a in zip(network, mask, ip, strict=True))


# --- go-cidr -----------------------------------------------------------------------------------


def _int_to_ip(value: int, bits: int) -> bytes:
    """go-cidr's intToIP: the magnitude's bytes, right-aligned (Go panics when they overflow)."""
    raw = abs(value).to_bytes((abs(value).bit_length() + 7) // 8, "big")
    if len(raw) > bits // 8:
        raise FunctionError("the address is out of range")
    return raw.rjust(bits // 8, b"\x00")


def _insert(ip: bytes, number: int, prefix_bits: int) -> bytes:
    """go-cidr's insertNumIntoIP (an OR, in two's complement for a negative number)."""
    total = len(ip) * 8
    return _int_to_ip(int.from_bytes(ip, "big") | (number << (total - prefix_bits)), total)


def _go_uint64(number: int) -> int:
    """big.Int.Uint64: the low 64 bits of the magnitude."""
    return abs(number) & (2**64 - 1)


def _last(net: _Net) -> bytes:
    """go-cidr's AddressRange: the last address of the network."""
    assert net.mask is not None
    ones, bits = _mask_size(net.mask)
    if ones == bits:
        return net.ip
    total = len(net.ip) * 8
    value = ((1 << (bits - ones)) - 1) | int.from_bytes(net.ip, "big")
    return _int_to_ip(value, total)


def _step(ip: bytes, delta: int) -> bytes:
    """go-cidr's Inc/Dec: wraps around."""
    size = len(ip)
    return ((int.from_bytes(ip, "big") + delta) % (1 << (8 * size))).to_bytes(size, "big")


_ZERO_V4, _ZERO_V6 = _V4_IN_V6 + bytes(4), bytes(16)


def _is_zero(ip: bytes) -> bool:
    return _equal(ip, _ZERO_V4) or _equal(ip, _ZERO_V6)


def _previous(net: _Net, length: int) -> _Net:
    start = _to4(net.ip) or net.ip
    mask = _cidr_mask(length, 8 * len(start))
    ip = _masked(_step(start, -1), mask) if mask is not None else None
    return _Net(ip or b"", mask)


def _next(net: _Net, length: int) -> tuple[_Net, bool]:
    last = _last(net)
    mask = _cidr_mask(length, 8 * len(last))
    assert mask is not None
    current = _Net(_masked(last, mask) or b"", mask)
    following = _step(_last(current), 1)
    return _Net(_masked(following, mask) or b"", mask), _is_zero(following)


# --- the functions ---------------------------------------------------------------------------


@register("cidrhost")
def cidrhost(prefix: Any, hostnum: Any) -> str:
    number = to_int(hostnum)
    net = _parse_cidr(to_string(prefix))
    assert net.mask is not None
    parent, size = _mask_size(net.mask)
    largest = (1 << (size - parent)) - 1
    unsigned = _go_uint64(number)
    count = unsigned - 2**64 if unsigned >= 2**63 else unsigned  # int64(num.Uint64())
    if number < 0:
        count = -number - 1
        number = largest - count
    if count > largest:
        raise FunctionError(f"prefix of {parent} does not accommodate a host numbered {number}")
    bits = 32 if _to4(net.ip) is not None else 128
    return _ip_string(_insert(net.ip, number, bits))


@register("cidrnetmask")
def cidrnetmask(prefix: Any) -> str:
    net = _parse_cidr(to_string(prefix))
    assert net.mask is not None
    if _to4(net.ip) is None:
        raise FunctionError("IPv6 addresses cannot have a netmask")
    return _ip_string(net.mask)


@register("cidrsubnet")
def cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    extra, number = to_int(newbits), to_int(netnum)
    net = _parse_cidr(to_string(prefix))
    assert net.mask is not None
    parent, size = _mask_size(net.mask)
    length = parent + extra
    if length > size:
        raise FunctionError(f"insufficient address space to extend prefix of {parent} by {extra}")
    largest = (1 << extra) - 1 if 0 <= extra < 64 else 2**64 - 1  # Go's uint64 shift
    if _go_uint64(number) > largest:
        raise FunctionError(f"prefix extension of {extra} does not accommodate a subnet numbered {number}")
    ip = _insert(net.ip, number << (size - length), 8 * len(net.ip))
    return _net_string(_Net(ip, _cidr_mask(length, size)))


@register("cidrsubnets")
def cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    net = _parse_cidr(to_string(prefix))
    assert net.mask is not None
    start, _ = _mask_size(net.mask)
    if not newbits:
        return []
    lengths = [to_int(bits) for bits in newbits]
    current = _previous(net, lengths[0] + start)
    result: list[str] = []
    for extra in lengths:
        if extra < 1:
            raise FunctionError("must extend prefix by at least one bit")
        if extra > 32:
            raise FunctionError("may not extend prefix by more than 32 bits")
        length = extra + start
        if length > len(net.ip) * 8:
            protocol = "IPv4" if len(net.ip) == 4 else "IPv6"
            raise FunctionError(
                f"would extend prefix to {length} bits, which is too long for an {protocol} address"
            )
        following, rollover = _next(current, length)
        if rollover or not _contains(net, following.ip):
            raise FunctionError(
                f"not enough remaining address space for a subnet with a prefix of {length} bits "
                f"after {_net_string(current)}"
            )
        current = following
        result.append(_net_string(current))
    return result
