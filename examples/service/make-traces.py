#!/usr/bin/env python3
"""Writes the service example's traces: clients.pcap (port 1), pod-b.pcap (port 2), pod-d.pcap (port 3).

Each client connection: SYN, SYN-ACK, ACK, a request, a response, then FIN both ways. The backend
that answers a connection is the one OVS chose (the select group's hash for a client's first
connection, the learned affinity after that): CHOSEN below was read from ovs-oracle's output for
the clients' SYNs. `--syns-only` writes just the SYNs, to ask the oracle again after a change.
"""
import struct, sys

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

def tcp(src, dst, sport, dport, seq, ack, flags, data=b''):
    h = struct.pack('!HHIIBBHHH', sport, dport, seq, ack, 0x50, flags, 65535, 0, 0)
    pseudo = ip4(src) + ip4(dst) + struct.pack('!BBH', 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    return ipv4(src, dst, 6, h[:16] + struct.pack('!H', c) + h[18:] + data)

ROUTER_CLIENTS, ROUTER_BACKENDS = '0a:58:0a:f4:00:01', '0a:58:0a:f4:01:01'
MACS = {'10.244.0.5': '0a:58:0a:f4:00:05', '10.244.0.7': '0a:58:0a:f4:00:07',
        '10.244.1.6': '0a:58:0a:f4:01:06', '10.244.1.7': '0a:58:0a:f4:01:07'}
VIP = '10.96.0.10'
SYN, ACK, PSH, FIN = 0x02, 0x10, 0x08, 0x01

def eth(dst, src, payload): return mac(dst) + mac(src) + b'\x08\x00' + payload

# (client, source port, backend OVS chose): pod-a's second connection keeps pod-a's backend.
CHOSEN = [('10.244.0.5', 40000, '10.244.1.6'), ('10.244.0.7', 50004, '10.244.1.7'),
          ('10.244.0.5', 40001, '10.244.1.6')]

def write(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for ts, fr in frames:
            f.write(struct.pack('<IIII', 1700000000 + ts // 1000, (ts % 1000) * 1000, len(fr), len(fr)))
            f.write(fr)

ports = {'clients.pcap': [], 'pod-b.pcap': [], 'pod-d.pcap': []}
t = 0
def send(client_side, backend, frame):
    global t
    name = 'clients.pcap' if client_side else ('pod-b.pcap' if backend == '10.244.1.6' else 'pod-d.pcap')
    ports[name].append((t, frame))
    t += 2

for n, (client, sport, backend) in enumerate(CHOSEN):
    c, s = 1000 + n * 100000, 5000 + n * 100000
    cm, bm = MACS[client], MACS[backend]
    send(True, backend, eth(ROUTER_CLIENTS, cm, tcp(client, VIP, sport, 80, c, 0, SYN)))
    if '--syns-only' in sys.argv:
        continue
    send(False, backend, eth(ROUTER_BACKENDS, bm, tcp(backend, client, 8080, sport, s, c + 1, SYN | ACK)))
    send(True, backend, eth(ROUTER_CLIENTS, cm, tcp(client, VIP, sport, 80, c + 1, s + 1, ACK)))
    send(True, backend, eth(ROUTER_CLIENTS, cm, tcp(client, VIP, sport, 80, c + 1, s + 1, PSH | ACK, b'GET / HTTP/1.0\r\n\r\n')))
    send(False, backend, eth(ROUTER_BACKENDS, bm, tcp(backend, client, 8080, sport, s + 1, c + 19, PSH | ACK, b'HTTP/1.0 200 OK\r\n\r\nhello')))
    send(True, backend, eth(ROUTER_CLIENTS, cm, tcp(client, VIP, sport, 80, c + 19, s + 25, FIN | ACK)))
    send(False, backend, eth(ROUTER_BACKENDS, bm, tcp(backend, client, 8080, sport, s + 25, c + 20, FIN | ACK)))
    send(True, backend, eth(ROUTER_CLIENTS, cm, tcp(client, VIP, sport, 80, c + 20, s + 26, ACK)))

for name, frames in ports.items():
    write(name, frames)
