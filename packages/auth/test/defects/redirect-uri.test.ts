// Defect 4: the redirect URI is checked as the URL parser reads it, and
// input that does not read back as itself is refused.

import { loadProfile } from '@portico/testing';
import { describe, expect, it } from 'vitest';
import { createOAuthFlow } from '../../src/index.js';

const profile = loadProfile('finexer').profile;
const flow = (redirectUri: string) => () => createOAuthFlow(profile, { clientId: 'c', clientSecret: 's-0123456789', redirectUri });

describe('redirectUri', () => {
  it.each([
    ' http://evil.com/cb',
    '\thttp://evil.com/cb',
    'ht\ttp://evil.com/cb',
    'h\nttp://evil.com/cb',
    'http://evil.com/cb ',
    'HTTP://evil.com/cb',
    'http:\\\\evil.com\\cb',
    'http:evil.com/cb',
    'http://127.0.0.1\t.evil.com/cb',
    'not a url',
  ])('%j is refused', (uri) => {
    expect(flow(uri)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^(insecure_url|configuration_error)$/) }));
  });

  it.each([
    'https://app.example.com/cb',
    'http://127.0.0.1:8080/cb',
    'http://localhost/cb',
    'http://[::1]:3000/callback?x=1',
    'com.example.app:/oauth2redirect',
  ])('%j is accepted', (uri) => {
    expect(flow(uri)).not.toThrow();
  });
});
