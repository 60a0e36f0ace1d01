#!/usr/bin/perl
# 45-real-exim.t - savd against a real Exim (Debian's exim4, a second
# private instance: exim4 -C FILE -bdf) whose ACLs and routers give their
# own replies: an unknown user (a router's cannot_route_message), an
# unrouteable address, relay not permitted, the client on a DNSBL served
# by the DNS fixture, STARTTLS required, the null sender refused (with a
# text that says so, and with Exim's bare "Administrative prohibition"),
# and recipients_max.  savd must classify each as doc/protocol.md 4b/3c say:
# statements about the address fail, statements about us are "unknown
# blocked" (never fail), the null sender refused is "fail nullsender", and
# RCPTs refused with 452 go to a fresh session so that every address still
# gets its real answer.
#
# Each scenario has its own client address (savd's bind_address) and its
# own savd (a fresh cache), so that one client address trips one policy
# and no blocked-host record of one scenario answers another.  The whole
# test runs in private mount and network namespaces (t/lib/RealMTA.pm):
# root only.  Every reply the real server gives is also fetched with a
# plain SMTP dialogue from the same client address and shown with diag.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);
use RealMTA qw(:all);

my %IP = (exim => '127.0.0.20', exim_max => '127.0.0.21',
    clean => '127.0.0.30', dnsbl => '127.0.0.31', tls => '127.0.0.33',
    nonull => '127.0.0.34', nonull_bare => '127.0.0.35',
    rcptmax => '127.0.0.36', relay => '127.0.0.37');

my $why = cannot_run(exim => 1);
plan skip_all => "real Exim: $why" if $why;
BAIL_OUT(savd_bin() . ' is not built') unless -x savd_bin();
my $dir = tempdir();
$why = isolate(exim => 1, dir => $dir, addrs => [sort values %IP]);
plan skip_all => "real Exim: $why" if $why;

my $dns = start_dns(<<"EOF", dir => $dir, port => 53);
exim.test           MX   10 mx.exim.test
exim2.test          MX   10 mx.exim.test
relayed.test        MX   10 mx.exim.test
mx.exim.test        A    $IP{exim}
rcptmax.test        MX   10 mx2.exim.test
mx2.exim.test       A    $IP{exim_max}
31.0.0.127.bl.test  A    127.0.0.2
31.0.0.127.bl.test  TXT  Listed by bl.test: see http://bl.test/lookup?ip=127.0.0.31
EOF

# Exim A: the policies, each tripped by one client address.  exim.test
# has a mailbox router (Debian's cannot_route_message "Unknown user");
# exim2.test is a local domain that no router handles ("Unrouteable
# address"); relayed.test points here but is not served.
my $exim = start_exim(dir => $dir, addr => $IP{exim}, tls => 1,
    hostname => 'mx.exim.test', main => <<'EOF', acl => <<"EOF",
domainlist local_domains = exim.test : exim2.test
domainlist relay_to_domains =
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt
EOF
begin acl

acl_check_mail:
  deny    senders = :
          hosts   = $IP{nonull}
          message = Null sender not accepted here
  deny    senders = :
          hosts   = $IP{nonull_bare}
  accept

acl_check_rcpt:
  # The example of the Exim specification (dnslists), a multi-line reply.
  deny    dnslists = bl.test
          message  = rejected because \$sender_host_address is in a black \\
                     list at \$dnslist_domain\\n\$dnslist_text
  # Debian's exim4 configuration, word for word.
  require message = relay not permitted
          domains = +local_domains : +relay_to_domains
  deny    hosts   = $IP{tls}
          !encrypted = *
          message = STARTTLS is required to send mail to this server
  require verify  = recipient
  accept
EOF
    routers => <<'EOF');
local_user:
  driver = accept
  domains = exim.test
  local_parts = alice : bob : carol : postmaster
  transport = never_used
  # Only for its own domain: exim2.test keeps Exim's default text (a
  # forced expansion failure leaves the message unset).
  cannot_route_message = ${if eq{$domain}{exim.test}{Unknown user}fail}
EOF

# Exim B: recipients_max = 2.
my $exim_max = start_exim(dir => $dir, addr => $IP{exim_max},
    hostname => 'mx2.exim.test', main => <<'EOF', acl => <<'EOF',
domainlist local_domains = rcptmax.test
recipients_max = 2
acl_smtp_rcpt = acl_check_rcpt
EOF
begin acl
acl_check_rcpt:
  require verify = recipient
  accept
EOF
    routers => <<'EOF');
local_user:
  driver = accept
  domains = rcptmax.test
  local_parts = alice : bob : carol : dave : erin
  transport = never_used
  cannot_route_message = Unknown user
EOF
diag('Exim A greets: ' . $exim->greeting);
diag('Exim B greets: ' . $exim_max->greeting);

# What the real server says, in a plain dialogue from $client (the replies
# to MAIL and the RCPTs; multi-line replies joined with "\n").
my %SEEN;
sub real_replies {
	my ($client, $server, $from, @rcpts) = @_;
	my @r = smtp_dialogue($server, 25, $client, 'EHLO savd.test',
	    "MAIL FROM:<$from>", map { "RCPT TO:<$_>" } @rcpts);
	shift @r;       # greeting
	shift @r;       # EHLO
	pop @r;         # QUIT
	my @c = ("MAIL FROM:<$from>", map { "RCPT TO:<$_>" } @rcpts);
	for my $i (0 .. $#r) {
		last unless defined $c[$i];
		diag("Exim from $client: $c[$i] -> $r[$i]");
		$SEEN{"$client $c[$i]"} = $r[$i];
	}
	return @r;
}

# tls = never by default here, so that the "STARTTLS required" refusal is
# what savd answers; the TLS checks ask for tls = may.

my @savds;
sub savd_from {
	my ($client, %conf) = @_;
	my $d = start_savd(dir => tempdir(), dns => $dns, smtp_port => 25,
	    conf => {
		bind_address => $client,
		allow_networks => "$IP{exim}/32, $IP{exim_max}/32",
		connect_timeout => '5s',
		command_timeout => '10s',
		answer_timeout => '20s',
		dns_timeout => '2s',
		tls => 'never',
		%conf,
	    });
	push @savds, $d;
	return $d;
}

sub expect {
	my ($d, $name, $req, %want) = @_;
	my $line = $d->query($req, timeout => 25);
	diag("savd: $req -> " . ($line // '(no answer)'));
	return fields_ok($name, $line, %want);
}

my $MX = "mx.exim.test[$IP{exim}]";
my @r;

# ---------------------------------------------------------------- address

@r = real_replies($IP{clean}, $IP{exim}, '', 'alice@exim.test',
    'nouser@exim.test', 'nouser@exim2.test');
like($r[1], qr/^250 /, 'Exim accepts alice@exim.test');
is($r[2], '550 Unknown user', 'Exim: an unknown user');
is($r[3], '550 Unrouteable address', 'Exim: an unrouteable address');
my $d = savd_from($IP{clean});
expect($d, 'an existing mailbox: ok accepted', 'RECIPIENT <alice@exim.test>',
    result => 'ok', reason => 'accepted', code => 250, source => 'callout',
    mx => $MX);
expect($d, 'Exim\'s "550 Unknown user": fail rejected',
    'RECIPIENT <nouser@exim.test>',
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', mx => $MX, text => 'Unknown user');
expect($d, 'Exim\'s "550 Unrouteable address": fail rejected',
    'SENDER <nouser@exim2.test>',
    result => 'fail', reason => 'rejected', code => 550,
    source => 'callout', mx => $MX, text => 'Unrouteable address');
$d->stop;

# ---------------------------------------------------------------- about us

@r = real_replies($IP{relay}, $IP{exim}, '', 'someone@relayed.test');
is($r[1], '550 relay not permitted', 'Exim: relay not permitted');
$d = savd_from($IP{relay});
expect($d, 'relay not permitted: unknown blocked, never fail',
    'RECIPIENT <someone@relayed.test>',
    result => 'unknown', reason => 'blocked', code => 550,
    source => 'callout', mx => $MX, text => 'relay not permitted');
$d->stop;

@r = real_replies($IP{dnsbl}, $IP{exim}, '', 'alice@exim.test',
    'nouser@exim.test');
like($r[1], qr/^550-rejected because 127\.0\.0\.31 is in a black list at bl\.test\n550 Listed by bl\.test/,
    'Exim: the client is on the DNSBL (multi-line 550)');
$d = savd_from($IP{dnsbl});
expect($d, 'client on a DNSBL: unknown blocked for an existing mailbox',
    'RECIPIENT <alice@exim.test>',
    result => 'unknown', reason => 'blocked', code => 550,
    text => qr/^rejected because 127\.0\.0\.31 is in a black list at bl\.test Listed by bl\.test/);
expect($d, 'client on a DNSBL: unknown blocked for an unknown user too,'
    . ' never fail', 'SENDER <nouser@exim.test>',
    result => 'unknown', reason => 'blocked');
$d->stop;

@r = real_replies($IP{tls}, $IP{exim}, '', 'alice@exim.test');
is($r[1], '550 STARTTLS is required to send mail to this server',
    'Exim: STARTTLS required (the deny in the RCPT ACL)');
$d = savd_from($IP{tls});
expect($d, 'STARTTLS required (550 at RCPT): unknown blocked',
    'RECIPIENT <alice@exim.test>',
    result => 'unknown', reason => 'blocked', code => 550,
    text => 'STARTTLS is required to send mail to this server');
expect($d, 'STARTTLS required: an unknown user is not failed either',
    'RECIPIENT <nouser@exim.test>', result => 'unknown', reason => 'blocked');
$d->stop;
{
	$d = savd_from($IP{tls}, tls => 'may');
	expect($d, 'tls = may against the server that requires STARTTLS:'
	    . ' ok accepted over TLS', 'RECIPIENT <alice@exim.test>',
	    result => 'ok', reason => 'accepted', tls => qr/^TLSv1\.[23]$/);
	$d->stop;
}

# ---------------------------------------------------------------- null sender

@r = real_replies($IP{nonull}, $IP{exim}, '');
is($r[0], '550 Null sender not accepted here', 'Exim: the null sender refused');
$d = savd_from($IP{nonull});
expect($d, 'the null sender refused at MAIL: fail nullsender',
    'SENDER <alice@exim.test>',
    result => 'fail', reason => 'nullsender', code => 550,
    source => 'callout', mx => $MX, text => 'Null sender not accepted here');
$d->stop;

@r = real_replies($IP{nonull_bare}, $IP{exim}, '');
is($r[0], '550 Administrative prohibition',
    'Exim: a bare deny at MAIL FROM:<>');
$d = savd_from($IP{nonull_bare});
expect($d, '"550 Administrative prohibition" at MAIL FROM:<> says nothing'
    . ' about the null sender: unknown blocked', 'SENDER <alice@exim.test>',
    result => 'unknown', reason => 'blocked', code => 550,
    text => 'Administrative prohibition');
$d->stop;

# ---------------------------------------------------------------- 452

@r = real_replies($IP{rcptmax}, $IP{exim_max}, '', 'alice@rcptmax.test',
    'bob@rcptmax.test', 'carol@rcptmax.test');
like($r[3] // '', qr/^452 /, 'Exim with recipients_max = 2: the third RCPT'
    . ' gets 452');
$d = savd_from($IP{rcptmax}, catchall_probe => 'no');
check_rcpt_limit(name => 'recipients_max', d => $d, srv => $exim_max,
    domain => 'rcptmax.test', mx => "mx2.exim.test[$IP{exim_max}]",
    connect_re => qr/SMTP connection from \[\Q$IP{rcptmax}\E\]/);
$d->stop;

my $pid = $exim->pid;
ok($pid && kill(0, $pid), 'Exim A is still running');
$exim->stop;
$exim_max->stop;
ok(!kill(0, $pid), 'Exim A is stopped (by its PID)');
for my $x ($exim, $exim_max) {
	my $p = $x->panic_log;
	diag("Exim on " . $x->addr . " complained:\n$p") if $p =~ /\S/;
}
done_testing();
