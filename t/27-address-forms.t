#!/usr/bin/perl
# 27-address-forms.t - doc/protocol.md 4c, address forms: local parts longer than
# 64 octets (VERP, SRS, BATV) and quoted local parts are asked about as
# written; internationalised domains are looked up and sent as A-labels,
# and answers show the A-label; a UTF-8 local part goes out with SMTPUTF8
# where the remote offers it and is answered `unknown smtputf8` where it
# does not.  Only what cannot be parsed is `fail syntax`.
#
# The fixture log escapes 8-bit bytes as \xHH and doubles backslashes, so
# the checks on it read "RCPT TO:<j\xC3\xB6rg@...>" for the bytes savd
# sent.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);

my $zone = <<'EOF';
ok.test                  MX   10 mx.ok.test
mx.ok.test               A    127.0.0.2
xn--bcher-kva.test       MX   10 mx.xn--bcher-kva.test
mx.xn--bcher-kva.test    A    127.0.0.2
utf8.test                MX   10 mx.utf8.test
mx.utf8.test             A    127.0.0.3
EOF

# 77 octets: an ezmlm/Exim-style VERP return path.
my $VERP = 'list-bounces+1712345678-4f3a2b1c0d9e5f6a7b-bob.smith='
    . 'customer.example.net-7ab';
my $VERPX = 'unknown-1712345678-4f3a2b1c0d9e5f6a7b-bob.smith='
    . 'customer.example.net-7abcdef';
my $SRS = 'SRS1=Zz9y=forwarder.example.com==Ab1c=XY=customer.example.net='
    . 'bob';
my $BATV = 'prvs=4f3a2b1c0d=bob';
my $L256 = 'l' x 256;
my $JOERG = "j\xc3\xb6rg";             # jörg, UTF-8 bytes
my $BUECHER = "b\xc3\xbccher.test";    # bücher.test, UTF-8 bytes
my $ALABEL = 'xn--bcher-kva.test';

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1,
    listen => ['127.0.0.2', '127.0.0.3'],
    profile => { '127.0.0.3' => 'smtputf8' },
    users => ['alice', 'bob', lc $VERP, lc $SRS, $BATV, $L256,
	'"john \"jr\" smith"', $JOERG]);
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	allow_networks => '127.0.0.2/32, 127.0.0.3/32',
	command_timeout => '2s',
	connect_timeout => '2s',
	dns_timeout => '1s',
	dns_retries => 0,
	answer_timeout => '10s',
});

sub expect {
	my ($name, $req, %want) = @_;
	return fields_ok($name, $d->query($req, timeout => 12), %want);
}

# The fixture's command lines, 8-bit bytes as \xHH.
sub cmds { return $smtp->commands($_[0]) }
sub sent { my ($re, $ip) = @_; return scalar grep { $_ =~ $re } cmds($ip) }

my $MXOK = 'mx.ok.test[127.0.0.2]';

# ------------------------------------------------ long local parts, as written

is(length $VERP, 77, 'the VERP local part has 77 octets');
expect('77-octet VERP sender: asked, and the remote\'s answer',
    "SENDER <$VERP\@ok.test>",
    result => 'ok', reason => 'accepted', code => 250,
    source => 'callout', mx => $MXOK);
ok(sent(qr/^RCPT TO:<\Q$VERP\E\@ok\.test>$/, '127.0.0.2'),
    '... RCPT TO carries the VERP address exactly as written');
expect('77-octet unknown local part: the remote\'s 550',
    "RECIPIENT <$VERPX\@ok.test>",
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', mx => $MXOK,
    text => qr/^5\.1\.1 <\Q$VERPX\E\@ok\.test>: .*User unknown$/);
expect('SRS1 local part over 64 octets: a callout',
    "SENDER <$SRS\@ok.test>",
    result => 'ok', reason => 'accepted', source => 'callout');
ok(sent(qr/^RCPT TO:<\Q$SRS\E\@ok\.test>$/, '127.0.0.2'),
    '... sent as written, case kept');
expect('BATV prvs= local part: a callout', "SENDER <$BATV\@ok.test>",
    result => 'ok', reason => 'accepted', source => 'callout');
expect('quoted local part with a space and escaped quotes: a callout',
    'RECIPIENT <"john \"jr\" smith"@ok.test>',
    result => 'ok', reason => 'accepted', source => 'callout');
# (the log doubles each backslash)
ok(sent(qr/^RCPT TO:<"john \\\\"jr\\\\" smith"\@ok\.test>$/, '127.0.0.2'),
    '... sent with its quotes and escapes');
expect('local part of 256 octets: a callout', "RECIPIENT <$L256\@ok.test>",
    result => 'ok', reason => 'accepted', source => 'callout');
expect('local part of 257 octets: fail syntax',
    'RECIPIENT <' . ('l' x 257) . '@ok.test>',
    result => 'fail', reason => 'syntax', code => 501, source => 'policy');
ok(!sent(qr/^RCPT TO:<l{257}\@/), '... and never sent');

# ------------------------------------------------ IDN: A-labels everywhere

expect('IDN domain: looked up and asked as its A-label',
    "RECIPIENT <bob\@$BUECHER>",
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => "mx.$ALABEL\[127.0.0.2]");
ok(scalar $dns->queries($ALABEL, 'MX'), '... the MX query is for the A-label');
ok(!grep({ /[\x80-\xff]/ } $dns->queries), '... no DNS query has 8-bit bytes');
ok(sent(qr/^RCPT TO:<bob\@\Q$ALABEL\E>$/, '127.0.0.2'),
    '... RCPT TO:<bob@xn--bcher-kva.test>');
expect('mixed-case U-label, unknown user: the answer shows the A-label',
    "RECIPIENT <unknown7\@B\xc3\x9cCHER.Test>",
    result => 'fail', reason => 'rejected', code => 550,
    mx => "mx.$ALABEL\[127.0.0.2]",
    text => qr/^5\.1\.1 <unknown7\@\Q$ALABEL\E>: /);
expect('the A-label form shares the U-label\'s cache record',
    "RECIPIENT <bob\@$ALABEL>",
    result => 'ok', reason => 'accepted', source => 'cache');
expect('... and the U-label form hits it again',
    "RECIPIENT <bob\@B\xc3\xbcCHER.test>",
    result => 'ok', reason => 'accepted', source => 'cache');
ok(!grep({ /[\x80-\xff]|\\x[89A-F][0-9A-F]/ } cmds('127.0.0.2')),
    'no 8-bit byte reached the server that does not offer SMTPUTF8');

# ------------------------------------------------ what cannot be parsed

my $q0 = () = $dns->queries;
for my $a ("bob\@\xe2\x98\x83.test",          # U+2603: IDNA disallows it
	"bob\@a\xe2\x80\x8db.test",             # ZWJ without its context
	"\xc0\xafbob\@ok.test",                 # overlong '/'
	"b\x80ob\@ok.test",                     # lone continuation byte
	"\xed\xa0\x80\@ok.test",                # UTF-16 surrogate
	"bob\@b\xed\xa0\x80cher.test") {
	(my $shown = $a) =~ s/([\x80-\xff])/sprintf('\\x%02x', ord $1)/ge;
	expect("fail syntax: $shown", "RECIPIENT <$a>",
	    result => 'fail', reason => 'syntax', code => 501,
	    source => 'policy');
}
is(scalar(() = $dns->queries), $q0, '... none of them was looked up');
expect('a C1 control in UTF-8 is a control character: badrequest',
    "RECIPIENT <b\xc2\x85ob\@ok.test>",
    result => 'error', reason => 'badrequest');

# ------------------------------------------------ UTF-8 local parts, SMTPUTF8
# These need the SMTPUTF8 side of src/session.c.

expect('UTF-8 local part, remote offers SMTPUTF8: ok accepted',
    "RECIPIENT <$JOERG\@utf8.test>",
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => 'mx.utf8.test[127.0.0.3]');
ok(sent(qr/^MAIL FROM:<> SMTPUTF8$/i, '127.0.0.3'),
    '... MAIL FROM:<> SMTPUTF8');
ok(sent(qr/^RCPT TO:<j\\xC3\\xB6rg\@utf8\.test>$/, '127.0.0.3'),
    '... RCPT TO with the UTF-8 bytes as written');
expect('UTF-8 local part, remote does not offer SMTPUTF8: unknown smtputf8',
    "RECIPIENT <$JOERG\@ok.test>",
    result => 'unknown', reason => 'smtputf8');
ok(!grep({ /\\x[89A-F][0-9A-F]|SMTPUTF8/i } cmds('127.0.0.2')),
    '... neither the UTF-8 address nor SMTPUTF8 was sent there');
expect('UTF-8 from= at a server with SMTPUTF8',
    "RECIPIENT <bob\@utf8.test> from=<$JOERG\@ok.test>",
    result => 'ok', reason => 'accepted', source => 'callout');
ok(sent(qr/^MAIL FROM:<j\\xC3\\xB6rg\@ok\.test> SMTPUTF8$/i, '127.0.0.3'),
    '... MAIL FROM:<jörg@ok.test> SMTPUTF8');
expect('ASCII address at a server with SMTPUTF8: no SMTPUTF8 needed',
    'RECIPIENT <alice@utf8.test>',
    result => 'ok', reason => 'accepted', source => 'callout');

ok($d->alive, 'savd is still running');
done_testing();
