import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runOperators } from '../../../engine/testing.ts';
import { pii, redactPii, isPublicIPv4, isPublicIPv6 } from '../../../operators/map/pii.ts';

test('pii: e-mail addresses are replaced', () => {
  const r = redactPii('Write to jane.doe+news@mail.example.co.uk or ADMIN@Example.org. Not: @handle, a@b, user@localhost.');
  assert.equal(r.text, 'Write to <EMAIL> or <EMAIL>. Not: @handle, a@b, user@localhost.');
  assert.equal(r.emails, 2);
});

test('pii: public IPv4 addresses are replaced, private and reserved ones kept', () => {
  const r = redactPii('Server 8.8.8.8 and 93.184.216.34:443; LAN 192.168.1.10, 10.0.0.1, 172.16.5.4, 127.0.0.1, 100.64.0.1, 169.254.1.1, 203.0.113.5, 255.255.255.255; bad 999.1.1.1 and 1.2.3.4.5');
  assert.equal(r.text, 'Server <IP_ADDRESS> and <IP_ADDRESS>:443; LAN 192.168.1.10, 10.0.0.1, 172.16.5.4, 127.0.0.1, 100.64.0.1, 169.254.1.1, 203.0.113.5, 255.255.255.255; bad 999.1.1.1 and 1.2.3.4.5');
  assert.equal(r.ips, 2);
  assert.ok(isPublicIPv4('1.1.1.1'));
  assert.ok(!isPublicIPv4('172.31.255.255'));
  assert.ok(isPublicIPv4('172.32.0.1'));
});

test('pii: global IPv6 addresses are replaced; loopback, link-local, ULA and documentation kept', () => {
  const r = redactPii('v6 2606:4700:4700::1111 and 2a00:1450:4001:80b::200e; keep ::1, fe80::1, fd00::5, 2001:db8::1 and 12:30:45 times');
  assert.equal(r.text, 'v6 <IP_ADDRESS> and <IP_ADDRESS>; keep ::1, fe80::1, fd00::5, 2001:db8::1 and 12:30:45 times');
  assert.ok(isPublicIPv6('2001:4860::8888'));
  assert.ok(!isPublicIPv6('not:an:ip'));
});

test('pii: the operator rewrites text, records counts, leaves clean docs as they are; placeholders configurable', async () => {
  const clean = { id: 'c', text: 'nothing here', meta: {} };
  const { out } = await runOperators([pii({ ip: '0.0.0.0', email: null })], [{ id: 'a', text: 'mail a@b.example from 8.8.4.4', meta: { url: 'u' } }, clean]);
  assert.equal(out[0]!.text, 'mail a@b.example from 0.0.0.0');
  assert.deepEqual(out[0]!.meta.pii, { emails: 0, ips: 1 });
  assert.equal(out[0]!.meta.url, 'u');
  assert.equal(out[1], clean);
});
