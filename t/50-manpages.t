#!/usr/bin/perl
# 50-manpages.t - the man pages render without warnings (mandoc -Tlint,
# groff -ww) and document every configuration key and command.
use strict;
use warnings;
use FindBin;
use Test::More;

my $doc = "$FindBin::Bin/../doc";
my @pages = qw(savd.8 savd.conf.5 savctl.8 check_savd.8);

sub run {
	my (@cmd) = @_;
	my $out = qx{@cmd 2>&1};
	return ($? >> 8, $out);
}

for my $p (@pages) {
	ok(-f "$doc/$p", "$p exists") or next;
	SKIP: {
		skip 'mandoc not installed', 1 unless -x '/usr/bin/mandoc';
		my ($rc, $out) = run('mandoc', '-Tlint', '-W', 'warning', "$doc/$p");
		is($out, '', "$p: mandoc -Tlint -W warning is silent");
	}
	SKIP: {
		skip 'groff not installed', 1 unless -x '/usr/bin/groff';
		my ($rc, $out) = run('groff', '-ww', '-man', '-z', "$doc/$p");
		is($out, '', "$p: groff -ww is silent");
	}
}

# Every key of the configuration table is documented in savd.conf(5).
open(my $fh, '<', "$FindBin::Bin/../src/config.h") or die "config.h: $!";
my $conf5 = do { local $/; open(my $m, '<', "$doc/savd.conf.5") or die; <$m> };
my %skip = map { $_ => 1 } qw(n_nameservers n_allow_networks n_routes
    has_listen has_bind_address domain_rate_count domain_rate_period);
my @keys;
my $in = 0;
while (<$fh>) {
	$in = 1 if /^struct config \{/;
	next unless $in;
	last if /^\};/;
	push @keys, $1 if /^\t(?:unsigned|int|char \*|struct \w+|size_t)\s+\**(\w+)(?:\[\d+\])?;/;
}
push @keys, 'domain_rate';
@keys = grep { !$skip{$_} } @keys;
cmp_ok(scalar(@keys), '>', 30, 'config.h lists the keys');
for my $k (@keys) {
	like($conf5, qr/\b\Q$k\E\b/, "savd.conf(5) documents $k");
}

my $savctl8 = do { local $/; open(my $m, '<', "$doc/savctl.8") or die; <$m> };
like($savctl8, qr/\bdump\b/, 'savctl(8) documents dump');
my $savd8 = do { local $/; open(my $m, '<', "$doc/savd.8") or die; <$m> };
like($savd8, qr/HEALTH/, 'savd(8) documents HEALTH');
done_testing();
