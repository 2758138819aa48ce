export { defineClient, type ClientOptions, type OperationMeta, type ProviderSpec } from './client.js';
export type { Client } from 'openapi-fetch';
export { parseBody, serializeForm } from './body.js';
export { ResponseParseError } from './errors.js';
export { decodeXml, parseXml, XmlSyntaxError, type XmlSchema } from './xml.js';
