#!/usr/bin/python3
# tlsfarm.py - smtpfarm's behaviour with STARTTLS, for bench/tls-bench.sh
# (measurement only, never a test): listeners 127.0.1.1..n on one port,
# EHLO offers STARTTLS, RCPT delayed.  Same options as smtpfarm (-w -n -d
# -t); the certificate and key are $TLSFARM_CERT and $TLSFARM_KEY.
import asyncio, ssl, sys, getopt, os, signal
opts, _ = getopt.getopt(sys.argv[1:], 'w:n:d:t:p:u:a:A')
o = dict(opts)
n = int(o.get('-n', 64)); delay = int(o.get('-d', 0)) / 1000.0
limit = int(o.get('-t', 600)); pf = o.get('-w')
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.environ['TLSFARM_CERT'], os.environ['TLSFARM_KEY'])
stats = {'sessions': 0, 'tls': 0, 'rcpt': 0}

async def session(r, w):
    stats['sessions'] += 1
    tls = False
    w.write(b'220 farm ESMTP\r\n')
    try:
        while True:
            l = await r.readline()
            if not l:
                break
            c = l[:4].upper()
            if c in (b'EHLO', b'HELO'):
                w.write(b'250-farm\r\n250-PIPELINING\r\n' + (b'250 8BITMIME\r\n' if tls else b'250 STARTTLS\r\n'))
            elif c == b'STAR':
                w.write(b'220 go ahead\r\n'); await w.drain()
                await w.start_tls(ctx); tls = True; stats['tls'] += 1
            elif c == b'MAIL':
                w.write(b'250 ok\r\n')
            elif c == b'RCPT':
                stats['rcpt'] += 1
                if delay: await asyncio.sleep(delay)
                w.write(b'250 ok\r\n' if l[9:13].lower() == b'user' else b'550 no\r\n')
            elif c == b'QUIT':
                w.write(b'221 bye\r\n'); await w.drain(); break
            else:
                w.write(b'500 what\r\n')
            await w.drain()
    except Exception:
        pass
    w.close()

async def main():
    port = 0; servers = []
    for i in range(1, n + 1):
        s = await asyncio.start_server(session, '127.0.1.%d' % i, port, backlog=4096)
        port = port or s.sockets[0].getsockname()[1]
        servers.append(s)
    open(pf + '.tmp', 'w').write('%d\n' % port); os.rename(pf + '.tmp', pf)
    await asyncio.sleep(limit)

def bye(*a):
    sys.stderr.write('smtpfarm: sessions=%(sessions)d tls=%(tls)d rcpt=%(rcpt)d\n' % stats); os._exit(0)
signal.signal(signal.SIGTERM, bye)
try:
    asyncio.run(main())
finally:
    bye()
