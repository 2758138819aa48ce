// Dapi (seed 004): the Connect layer hands the app { accessCode, userSecret,
// connectionID, ... }; POST /auth/ExchangeToken with the JSON body
// { appSecret, accessCode, connectionID } answers { success: true,
// accessToken }. The access code lives 30 minutes; the token is permanent
// until POST /users/DelinkUser (Bearer token, JSON { appSecret, userSecret }).
// Every endpoint is a JSON POST; errors are in the body (success: false,
// type, msg) and their HTTP status is not documented, so the emulator keeps
// them at 200, the hardest case for a client.
import { bearerOf, hasExactly, json, jsonOf, LoopbackServer, opaque, type RecordedRequest, type Reply } from '../http.js';

export interface DapiOptions {
  appSecret?: string;
  now?: () => number;
}

export interface ConnectResult {
  success: true;
  accessCode: string;
  userSecret: string;
  connectionID: string;
  userID: string;
  tokenID: string;
}

interface User extends ConnectResult {
  accessCodeExpiresAt: number;
  accessToken?: string;
  delinked: boolean;
}

const ACCESS_CODE_LIFETIME_MS = 30 * 60_000;

export class DapiEmulator extends LoopbackServer {
  readonly appSecret: string;
  readonly #users: User[] = [];
  readonly #now: () => number;

  constructor(options: DapiOptions = {}) {
    super();
    this.appSecret = options.appSecret ?? 'dapi-app-secret';
    this.#now = options.now ?? Date.now;
    this.route('POST /v2/auth/ExchangeToken', (request) => this.#exchange(request));
    this.route('POST /v2/users/DelinkUser', (request) => this.#delink(request));
    this.route('POST /v2/data/identity/get', (request) => {
      const user = this.#userOf(request);
      if (!user) return json(401, { success: false, status: 'failed', type: 'INVALID_TOKEN', msg: 'Access token is invalid' });
      return json(200, { success: true, status: 'done', operationID: opaque('op'), identity: { name: 'Test User', nationality: 'AE' } });
    });
  }

  /** The API base the dapi package uses; the profile's relative URLs resolve against it. */
  get apiBaseUrl(): string {
    return `${this.url}/v2`;
  }

  /** What Dapi's Connect front end returns after a user links a bank. */
  connect(): ConnectResult {
    const result: ConnectResult = {
      success: true,
      accessCode: opaque('dapi_code'),
      userSecret: opaque('dapi_usersecret'),
      connectionID: opaque('conn'),
      userID: opaque('user'),
      tokenID: opaque('tokenid'),
    };
    this.#users.push({ ...result, accessCodeExpiresAt: this.#now() + ACCESS_CODE_LIFETIME_MS, delinked: false });
    return result;
  }

  #userOf(request: RecordedRequest): User | undefined {
    const token = bearerOf(request);
    return this.#users.find((u) => token !== undefined && u.accessToken === token && !u.delinked);
  }

  #exchange(request: RecordedRequest): Reply {
    const body = jsonOf(request);
    if (!body || request.headers.authorization !== undefined || !hasExactly(body, ['appSecret', 'accessCode', 'connectionID'])) {
      return json(400, {
        success: false,
        status: 'failed',
        type: 'BAD_REQUEST',
        msg: 'a JSON body with appSecret, accessCode and connectionID is required',
      });
    }
    if (body.appSecret !== this.appSecret)
      return json(200, { success: false, status: 'failed', type: 'INVALID_APP_SECRET', msg: 'App secret is invalid' });
    const user = this.#users.find((u) => u.accessCode === body.accessCode && u.connectionID === body.connectionID);
    if (!user || user.accessToken !== undefined || user.accessCodeExpiresAt <= this.#now()) {
      return json(200, {
        success: false,
        status: 'failed',
        type: 'INVALID_ACCESS_CODE',
        msg: `Access code ${String(body.accessCode)} is invalid or expired`,
      });
    }
    user.accessToken = opaque('dapi_at');
    return json(200, { success: true, accessToken: user.accessToken, tokenID: user.tokenID, userID: user.userID, status: 'done' });
  }

  #delink(request: RecordedRequest): Reply {
    const user = this.#userOf(request);
    if (!user) return json(401, { success: false, status: 'failed', type: 'INVALID_TOKEN', msg: 'Access token is invalid' });
    const body = jsonOf(request);
    if (
      !body ||
      !hasExactly(body, ['appSecret', 'userSecret']) ||
      body.appSecret !== this.appSecret ||
      body.userSecret !== user.userSecret
    ) {
      return json(200, {
        success: false,
        status: 'failed',
        type: 'INVALID_REQUEST',
        msg: 'appSecret and the user secret of this token are required',
      });
    }
    user.delinked = true;
    return json(200, { success: true, status: 'done' });
  }
}

export function startDapi(options?: DapiOptions): Promise<DapiEmulator> {
  return new DapiEmulator(options).start();
}
