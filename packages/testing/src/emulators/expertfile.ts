// ExpertFile (seed 003): POST /v2/oauth/token, form body client_id,
// client_secret, grant_type=client_credentials; the answer is the API's
// envelope, not RFC 6749: { success, data: { accessToken,
// accessTokenExpiresAt (ISO 8601), client, user, scope: true } }. Tokens last
// 30 days. The error body { success: false, msg } is inferred (fact sheet).
import { bearerOf, formOf, hasExactly, json, LoopbackServer, type RecordedRequest, type Reply, tokenReply } from '../http.js';
import { TokenBook } from './tokens.js';

export interface ExpertFileOptions {
  clientId?: string;
  clientSecret?: string;
  /** Token lifetime, seconds; 30 days by default. */
  lifetimeSeconds?: number;
  now?: () => number;
}

export class ExpertFileEmulator extends LoopbackServer {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly organization = 4821;
  lifetimeSeconds: number;
  readonly tokens: TokenBook;
  readonly #now: () => number;

  constructor(options: ExpertFileOptions = {}) {
    super();
    this.clientId = options.clientId ?? 'ef-client';
    this.clientSecret = options.clientSecret ?? 'ef-secret';
    this.lifetimeSeconds = options.lifetimeSeconds ?? 30 * 24 * 3600;
    this.#now = options.now ?? Date.now;
    this.tokens = new TokenBook(this.#now);
    this.route('POST /v2/oauth/token', (request) => this.#token(request));
    this.route(`GET /v2/organization/${this.organization}/expert`, (request) =>
      this.tokens.isValid(bearerOf(request))
        ? json(200, { data: { experts: [], total: 0 }, success: true })
        : json(401, { success: false, msg: 'Unauthorized' }),
    );
  }

  get tokenUrl(): string {
    return `${this.url}/v2/oauth/token`;
  }

  get apiBaseUrl(): string {
    return `${this.url}/v2`;
  }

  #token(request: RecordedRequest): Reply {
    const form = formOf(request);
    if (!form || request.headers.authorization !== undefined || !hasExactly(form, ['client_id', 'client_secret', 'grant_type'])) {
      return tokenReply(400, { success: false, msg: 'client_id, client_secret and grant_type are required in a form body' });
    }
    if (form.get('grant_type') !== 'client_credentials') return tokenReply(400, { success: false, msg: 'Unsupported grant type' });
    if (form.get('client_id') !== this.clientId || form.get('client_secret') !== this.clientSecret) {
      return tokenReply(401, { success: false, msg: 'Invalid client: client is invalid' });
    }
    const accessToken = this.tokens.issue('ef_at', this.lifetimeSeconds);
    return tokenReply(200, {
      data: {
        accessToken,
        accessTokenExpiresAt: new Date(this.#now() + this.lifetimeSeconds * 1000).toISOString(),
        client: this.clientId,
        user: this.organization,
        scope: true,
      },
      success: true,
    });
  }
}

export function startExpertFile(options?: ExpertFileOptions): Promise<ExpertFileEmulator> {
  return new ExpertFileEmulator(options).start();
}
