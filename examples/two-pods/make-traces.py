#!/usr/bin/env python3
"""Writes the example traces pod-a.pcap and pod-b.pcap (classic pcap, Ethernet)."""
import struct

def csum(b):
    if len(b) % 2: b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def ip4(a): return bytes(int(x) for x in a.split('.'))
def mac(m): return bytes.fromhex(m.replace(':', ''))

def ipv4(src, dst, proto, payload, ttl=64):
    h = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), 1, 0x4000, ttl, proto, 0, ip4(src), ip4(dst))
    return h[:10] + struct.pack('!H', csum(h)) + h[12:] + payload

def l4(src, dst, proto, hdr_wo_csum, csum_at, data=b''):
    pseudo = ip4(src) + ip4(dst) + struct.pack('!BBH', 0, proto, len(hdr_wo_csum) + len(data))
    c = csum(pseudo + hdr_wo_csum + data)
    return hdr_wo_csum[:csum_at] + struct.pack('!H', c) + hdr_wo_csum[csum_at + 2:] + data

def tcp(src, dst, sport, dport, flags=0x02):
    h = struct.pack('!HHIIBBHHH', sport, dport, 1000, 0, 0x50, flags, 65535, 0, 0)
    return ipv4(src, dst, 6, l4(src, dst, 6, h, 16))

def udp(src, dst, sport, dport, data):
    h = struct.pack('!HHHH', sport, dport, 8 + len(data), 0)
    return ipv4(src, dst, 17, l4(src, dst, 17, h, 6, data))

def icmp_echo(src, dst, seq, ttl=64):
    body = struct.pack('!BBHHH', 8, 0, 0, 0x1234, seq) + b'junction'
    body = body[:2] + struct.pack('!H', csum(body)) + body[4:]
    return ipv4(src, dst, 1, body, ttl)

ROUTER_A, ROUTER_B = '0a:58:0a:f4:00:01', '0a:58:0a:f4:01:01'
A_MAC, B_MAC = '0a:58:0a:f4:00:05', '0a:58:0a:f4:01:06'
def eth(dst, src, payload): return mac(dst) + mac(src) + b'\x08\x00' + payload

def write(path, frames, t0):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            ts = t0 + i * 2
            f.write(struct.pack('<IIII', 1700000000 + ts // 1000, (ts % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)

a, b = '10.244.0.5', '10.244.1.6'
write('pod-a.pcap', [
    eth(ROUTER_A, A_MAC, icmp_echo(a, b, 1)),                 # routed to pod-b
    eth(ROUTER_A, A_MAC, tcp(a, b, 40000, 80)),               # web: allowed
    eth(ROUTER_A, A_MAC, tcp(a, b, 40001, 23)),               # telnet: dropped by the ACL
    eth(ROUTER_A, A_MAC, udp(a, b, 5353, 53, b'query')),      # UDP: allowed
    eth(ROUTER_A, '0a:58:0a:f4:00:99', icmp_echo(a, b, 2)),   # spoofed MAC: port security drops
    eth(ROUTER_A, A_MAC, icmp_echo(a, b, 3, ttl=1)),          # TTL 1: dec_ttl exception
], 0)
write('pod-b.pcap', [
    eth(ROUTER_B, B_MAC, icmp_echo(b, a, 1)),                 # reply direction
    eth(ROUTER_B, B_MAC, tcp(b, a, 80, 40000, 0x12)),         # SYN-ACK
    eth(ROUTER_B, B_MAC, icmp_echo('10.244.1.7', a, 9)),      # spoofed IP: dropped
], 1)
