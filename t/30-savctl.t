#!/usr/bin/perl
# 30-savctl.t - savctl against a real savd: requests built from arguments,
# the answer printed as is, exit 0 ok / 1 fail / 2 defer,unknown / 3 error.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd;

my $savctl = $ENV{SAVCTL} // "$FindBin::Bin/../src/savctl";
BAIL_OUT("$savctl is not built") unless -x $savctl;

# Run a program (bounded by Savd::run_cmd); returns (exit status,
# stdout, stderr).
sub run {
	my $r = Savd::run_cmd([@_], timeout => 30);
	return ($r->{status} // -1, $r->{out}, $r->{err});
}

my $me = getpwuid($<);
my $port = Savd::free_port();
my $d = Savd::start_savd(conf => {
	skip_domains => 'skipped.example, *.skipped.example',
	admin_users => "root, $me",
	listen => "127.0.0.1:$port",
});
my $sock = $d->{sock};
my @s = ($savctl, '-s', $sock, '-t', '10');
my ($rc, $out, $err);

($rc, $out) = run(@s, 'ping');
is($rc, 0, 'ping exits 0');
like($out, qr/\Aresult=ok reason=pong\b[^\n]*\n\z/, 'ping prints the answer line');

($rc, $out) = run(@s, 'PING');
is($rc, 0, 'commands are case-insensitive');

($rc, $out) = run(@s, 'stats');
is($rc, 0, 'stats exits 0');
like($out, qr/^result=ok\b/, 'stats answers result=ok');
for my $k (qw(uptime requests cache_hits cache_misses callouts inflight
    clients)) {
	like($out, qr/ \Q$k\E=\d+\b/, "stats has $k");
}

($rc, $out) = run(@s, 'health');
is($rc, 0, 'health exits 0');
like($out, qr/^result=ok\b.* status=(ok|warning|critical)\b/,
    'health answers result=ok with a status');

($rc, $out) = run(@s, 'sender', 'bob@skipped.example');
is($rc, 2, 'sender in skip_domains exits 2');
like($out, qr/^result=unknown\b/, '... result=unknown');
like($out, qr/ reason=skipped\b/, '... reason=skipped');

($rc, $out) = run(@s, 'recipient', '<bob@sub.skipped.example>');
is($rc, 2, 'bracketed recipient in a skipped subdomain exits 2');
like($out, qr/^result=unknown .*reason=skipped\b/, '... unknown skipped');

($rc, $out) = run(@s, 'sender', 'bob@@example.com');
is($rc, 1, 'syntax-invalid address exits 1');
like($out, qr/^result=fail\b/, '... result=fail');
like($out, qr/ reason=syntax\b/, '... reason=syntax');
like($out, qr/ code=501\b/, '... code=501');

($rc, $out) = run(@s, 'sender', '');
is($rc, 0, 'empty sender is the null sender: exits 0');
like($out, qr/^result=ok .*reason=null\b/, '... ok null');

($rc, $out) = run(@s, 'sender', '<>', 'id=t30');
is($rc, 0, 'null sender with an option exits 0');

($rc, $out) = run(@s, 'sender', 'bob@skipped.example', 'nosuch=1');
is($rc, 3, 'unknown request option exits 3');
like($out, qr/^result=error .*reason=badrequest\b/, '... error badrequest');

($rc, $out) = run(@s, 'flush', 'all');
is($rc, 0, 'flush all by an admin user exits 0');
like($out, qr/^result=ok .*flushed=\d+/, '... flushed=N');

($rc, $out) = run(@s, 'flush', 'domain', 'skipped.example');
is($rc, 0, 'flush domain exits 0');

($rc, $out) = run(@s, 'flush', 'address', 'bob@skipped.example');
is($rc, 0, 'flush address exits 0');

($rc, $out) = run($savctl, '-s', "127.0.0.1:$port", '-t', '10', 'ping');
is($rc, 0, 'ping over the TCP listener exits 0');
like($out, qr/\Aresult=ok reason=pong\b[^\n]*\n\z/, '... and prints the answer');

($rc, $out, $err) = run(@s, 'sender', "bob\r\@example.com");
is($rc, 3, 'control character in an argument exits 3');
is($out, '', '... nothing is printed on stdout');
like($err, qr/control character/, '... and says why');

($rc, $out, $err) = run(@s, 'flush', 'everything');
is($rc, 3, 'usage error exits 3');
like($err, qr/^usage: savctl/m, '... with the usage');

($rc, $out, $err) = run(@s, 'ping', 'extra');
is($rc, 3, 'extra argument to ping exits 3');

($rc, $out, $err) = run($savctl, '-s', "$sock.missing", 'ping');
is($rc, 3, 'missing socket exits 3');
is($out, '', '... nothing on stdout');
like($err, qr/\Q$sock.missing\E/, '... the error names the socket');

($rc, $out, $err) = run($savctl, '-s', $sock, '-t', 'soon', 'ping');
is($rc, 3, 'bad timeout exits 3');

# metrics: the Prometheus text alone (t/35-metrics.t checks its grammar).
($rc, $out) = run(@s, 'metrics');
is($rc, 0, 'metrics exits 0');
like($out, qr/\A# HELP savd_\w+ /, '... starts with a HELP line, no '
    . 'protocol line');
like($out, qr/^savd_build_info\{version="[^"]+"\} 1$/m, '... build_info');
($rc, $out) = run($savctl, '-s', "127.0.0.1:$port", '-t', '10', 'METRICS');
is($rc, 0, 'metrics over the TCP listener, case-insensitive, exits 0');
like($out, qr/^# TYPE savd_verifications_total counter$/m, '... exposition');
($rc, $out, $err) = run(@s, 'metrics', 'now');
is($rc, 3, 'metrics with an argument: usage error, exit 3');
($rc, $out, $err) = run($savctl, '-s', "$sock.missing", 'metrics');
is($rc, 3, 'metrics with a missing socket exits 3');
is($out, '', '... nothing on stdout');

# -V prints the version configure.ac gives, not a placeholder.
my ($version) = Savd::slurp("$FindBin::Bin/../configure.ac")
    =~ /AC_INIT\(\[savd\],\s*\[([^\]]+)\]/;
($rc, $out) = run($savctl, '-V');
is($rc, 0, 'savctl -V exits 0');
is($out, "savctl $version\n", "... prints savctl $version");

$d->stop;

($rc, $out, $err) = run(@s, 'ping');
is($rc, 3, 'stopped daemon: exits 3');

done_testing();
