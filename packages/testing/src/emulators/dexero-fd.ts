// Dexero FD (seed 000): client credentials at /oauth/token.action, client
// authenticated with HTTP Basic, form body `scope=read&grant_type=client_credentials`.
// Response fields are not published; RFC 6749 §5.1 is assumed (fact sheet).
import {
  bearerOf,
  formOf,
  hasExactly,
  json,
  LoopbackServer,
  NO_STORE,
  parseBasic,
  type RecordedRequest,
  type Reply,
  tokenReply,
} from '../http.js';
import { TokenBook } from './tokens.js';

export interface DexeroFdOptions {
  clientId?: string;
  clientSecret?: string;
  /** expires_in of issued tokens, seconds. */
  expiresIn?: number;
  now?: () => number;
}

const SCOPES = ['read', 'write'];

export class DexeroFdEmulator extends LoopbackServer {
  readonly clientId: string;
  readonly clientSecret: string;
  expiresIn: number;
  readonly tokens: TokenBook;

  constructor(options: DexeroFdOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'dexero-client';
    this.clientSecret = options.clientSecret ?? 's3cr:et+/%';
    this.expiresIn = options.expiresIn ?? 3600;
    this.tokens = new TokenBook(options.now ?? Date.now);
    this.route('POST /oauth/token.action', (request) => this.#token(request));
    this.route('GET /services/v6/rest/records.json', (request) =>
      this.tokens.isValid(bearerOf(request))
        ? json(200, { records: [] })
        : json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer error="invalid_token"' }),
    );
  }

  get tokenUrl(): string {
    return `${this.url}/oauth/token.action`;
  }

  get apiBaseUrl(): string {
    return `${this.url}/services/v6/rest`;
  }

  #token(request: RecordedRequest): Reply {
    const client = parseBasic(request.headers.authorization);
    if (!client || client.id !== this.clientId || client.secret !== this.clientSecret) {
      return {
        ...tokenReply(401, { error: 'invalid_client', error_description: 'HTTP Basic client authentication failed' }),
        headers: { ...NO_STORE, 'www-authenticate': 'Basic realm="dexero"' },
      };
    }
    const form = formOf(request);
    if (!form)
      return tokenReply(400, { error: 'invalid_request', error_description: 'the body must be application/x-www-form-urlencoded' });
    if (!hasExactly(form, ['scope', 'grant_type']))
      return tokenReply(400, { error: 'invalid_request', error_description: 'expected exactly scope and grant_type' });
    if (form.get('grant_type') !== 'client_credentials') return tokenReply(400, { error: 'unsupported_grant_type' });
    const scope = form.get('scope')!.split(' ');
    if (!scope.every((s) => SCOPES.includes(s))) return tokenReply(400, { error: 'invalid_scope' });
    const accessToken = this.tokens.issue('dexero_at', this.expiresIn);
    return tokenReply(200, { access_token: accessToken, token_type: 'bearer', expires_in: this.expiresIn, scope: scope.join(' ') });
  }
}

export function startDexeroFd(options?: DexeroFdOptions): Promise<DexeroFdEmulator> {
  return new DexeroFdEmulator(options).start();
}
