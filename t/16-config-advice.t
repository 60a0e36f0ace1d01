#!/usr/bin/perl
# 16-config-advice.t - what savd says about a configuration that is valid
# but probably wrong (savd -t and start-up), what a reload says and
# forgets, and the role= / late= fields of the log (issue 10 items 3-5).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);

my $dir = tempdir();
my $savd = savd_bin();

sub check {
	my ($name, $text) = @_;
	my $f = "$dir/$name.conf";
	Savd::spit($f, $text);
	return run_cmd([$savd, '-t', '-c', $f]);
}

my $base = "socket = $dir/s\nhelo_name = verifier.example.net\n"
    . "socket_group = \nsocket_mode = 0666\n";
my $r = check('clean', $base);
is($r->{status}, 0, 'a clean configuration: exit 0');
is($r->{err}, '', '... and no warning');

$r = check('helo', "socket = $dir/s\nhelo_name = mailhost\nsocket_mode = 0666\n");
is($r->{status}, 0, 'a short helo_name is valid: exit 0');
like($r->{err}, qr/warning: helo_name 'mailhost' is not a fully qualified/,
    '... with a warning about the HELO name');
$r = check('helolocal',
    "socket = $dir/s\nhelo_name = mx.localdomain\nsocket_mode = 0666\n");
like($r->{err}, qr/helo_name 'mx\.localdomain'/, '.localdomain is no FQDN');

$r = check('group', "socket = $dir/s\nhelo_name = verifier.example.net\n");
is($r->{status}, 0, 'no socket_group with mode 0660: exit 0');
like($r->{err}, qr/warning: socket_group is empty .*Debian-exim/,
    '... with a warning that Exim cannot connect');

$r = check('route', $base . "routes = r.test=localhost:25\n");
is($r->{status}, 0, 'a route by name to loopback: exit 0');
like($r->{err}, qr/routes: r\.test=localhost resolves only to refused/,
    '... with a warning that it can never be called');
$r = check('literal', $base . "routes = r.test=[127.0.0.9]:25\n");
is($r->{err}, '', 'a route written as an address literal: trusted, silent');
$r = check('allowed', $base . "routes = r.test=localhost:25\n"
    . "allow_networks = 127.0.0.0/8, ::1/128\n");
is($r->{err}, '', 'a route by name inside allow_networks: silent');

# ------------------------------------------------ a running savd

my $zone = <<'EOF';
ok.test       MX 10 mx.ok.test
mx.ok.test    A  127.0.0.2
bogus.test    MX 10 mx.bogus.test
mx.bogus.test A  127.0.0.3
routed.test   MX 10 mx.ok.test
EOF
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, listen => ['127.0.0.2', '127.0.0.3'],
    profile => { '127.0.0.2' => 'default', '127.0.0.3' => 'tarpit' });
my %conf = (allow_networks => '127.0.0.2/32',
    routes => 'routed.test=[127.0.0.2]:' . $smtp->port,
    answer_timeout => '2s', command_timeout => '5s');
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => \%conf);

like($d->log_text, qr/warning.*socket_group is empty|socket_group is empty/,
    'start-up logs the same advice');
like($d->query('SENDER <alice@ok.test>'), qr/result=ok/, 'a sender check');
like($d->query('RECIPIENT <bob@routed.test>'), qr/result=ok/,
    'a call-forward');
ok($d->wait_log(qr/addr=<alice\@ok\.test>.* role=sender/, 5),
    'the log says role=sender');
ok($d->wait_log(qr/addr=<bob\@routed\.test>.* role=recipient/, 5),
    'the log says role=recipient');
like($d->query('SENDER <x@bogus.test>'), qr/reason=bogusmx/,
    'bogusmx while 127.0.0.3 is outside allow_networks');

# A callout that outlives its client is logged when it ends.
$d->write_conf({ %conf, allow_networks => '127.0.0.2/32, 127.0.0.3/32' });
$d->hup;
ok($d->wait_log(qr/reload: \d+ cached answers depended on .*allow_networks/,
    5), 'a reload that changes allow_networks forgets bogusmx');
like($d->query('SENDER <y@bogus.test>', timeout => 5),
    qr/reason=inprogress/, 'bogus.test is called now (a tarpit: inprogress)');
ok($d->wait_log(qr/addr=<y\@bogus\.test>.* role=sender late=yes/, 15),
    'the callout that finished after its client gave up is logged');

$d->write_conf({ %conf, routes => 'routed.test=[127.0.0.2]:1' });
$d->hup;
ok($d->wait_log(qr/reload: \d+ cached answers depended on .*routes/, 5),
    'a reload that changes routes forgets the routed answers');
$d->write_conf({ %conf, socket_mode => '0600' });
$d->hup;
ok($d->wait_log(qr/reload: socket_mode changed: that takes effect only at a restart/,
    5), 'a key that needs a restart is named');

done_testing();
