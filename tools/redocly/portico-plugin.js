// Redocly plugin with the repo's own rules: every operation declares its own
// security, and every x-portico-* extension matches its JSON Schema, so a
// malformed auth profile fails lint instead of failing a user at runtime.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { heldCredentials } from '../lib/credential-rules.js';

const load = (name) => JSON.parse(readFileSync(new URL(`../schema/${name}`, import.meta.url), 'utf8'));
const ajv = new Ajv2020({ allErrors: true, strict: false });
const authSchema = load('x-portico-auth.schema.json');
const opSchema = load('x-portico-operation.schema.json');
ajv.addSchema(opSchema);
const validateAuth = ajv.compile(authSchema);
const validatePagination = ajv.getSchema(`${opSchema.$id}#/$defs/pagination`);
const validateRetrySafe = ajv.getSchema(`${opSchema.$id}#/$defs/retrySafe`);
const validateEnvelope = ajv.getSchema(`${opSchema.$id}#/$defs/envelope`);
const validateRepresentation = ajv.getSchema(`${opSchema.$id}#/$defs/representation`);
const ROOT_EXTENSIONS = {
  'x-portico-envelope': validateEnvelope,
  'x-portico-webhook-signature': ajv.getSchema(`${opSchema.$id}#/$defs/webhookSignature`),
  'x-portico-user-input': ajv.getSchema(`${opSchema.$id}#/$defs/userInput`),
};

function reportErrors(validate, value, name, location, report) {
  if (validate(value)) return;
  for (const e of validate.errors ?? []) {
    report({
      message: `${name}${e.instancePath} ${e.message}${e.params?.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : ''}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ''}`,
      location,
    });
  }
}

const OperationSecurity = () => ({
  Operation(op, { report, location }) {
    if (!Array.isArray(op.security)) {
      report({
        message: 'Every operation declares its own `security` (use `security: []` for a public endpoint).',
        location: location.key(),
      });
    }
  },
});

const AuthProfile = () => {
  const operationIds = new Set();
  return {
    Operation(op) {
      if (op.operationId) operationIds.add(op.operationId);
    },
    Root: {
      leave(root, { report, location }) {
        const profile = root['x-portico-auth'];
        if (profile === undefined) {
          report({ message: 'The document has no `x-portico-auth` profile.', location: location.key() });
          return;
        }
        const at = location.child(['x-portico-auth']);
        reportErrors(validateAuth, profile, 'x-portico-auth', at, report);
        const schemes = root.components?.securitySchemes ?? {};
        if (profile.securityScheme && !(profile.securityScheme in schemes)) {
          report({
            message: `x-portico-auth.securityScheme names \`${profile.securityScheme}\`, which is not in components.securitySchemes.`,
            location: at.child(['securityScheme']),
          });
        } else if (profile.credentials !== undefined && profile.securityScheme && profile.grants === undefined) {
          report({
            message:
              'x-portico-auth.securityScheme names the OAuth scheme of `grants`; without grants, list every credential under `credentials`.',
            location: at.child(['securityScheme']),
          });
        } else if (profile.credentials !== undefined || (profile.securityScheme && profile.grants === undefined)) {
          const held = heldCredentials(root);
          if (typeof held === 'string')
            report({ message: held, location: at.child([profile.credentials ? 'credentials' : 'securityScheme']) });
        }
        for (const part of ['authorization', 'token', 'revocation']) {
          const id = profile[part]?.operationId;
          if (id && !operationIds.has(id)) {
            report({
              message: `x-portico-auth.${part}.operationId \`${id}\` is not an operation of this document.`,
              location: at.child([part, 'operationId']),
            });
          }
        }
        for (const [name, validate] of Object.entries(ROOT_EXTENSIONS)) {
          if (root[name] !== undefined) reportErrors(validate, root[name], name, location.child([name]), report);
        }
        const inputSchema = root['x-portico-user-input']?.schema;
        if (inputSchema && !root.components?.schemas?.[inputSchema]) {
          report({
            message: `x-portico-user-input.schema names \`${inputSchema}\`, which is not in components.schemas.`,
            location: location.child(['x-portico-user-input', 'schema']),
          });
        }
      },
    },
  };
};

const OperationExtensions = () => ({
  Parameter(param, { report, location }) {
    if (param['x-portico-representation'] === undefined) return;
    reportErrors(
      validateRepresentation,
      param['x-portico-representation'],
      'x-portico-representation',
      location.child(['x-portico-representation']),
      report,
    );
    if (param.in !== 'path') report({ message: 'x-portico-representation goes on a path parameter.', location: location.key() });
  },
  Operation(op, { report, location }) {
    if (op['x-portico-pagination'] !== undefined) {
      reportErrors(
        validatePagination,
        op['x-portico-pagination'],
        'x-portico-pagination',
        location.child(['x-portico-pagination']),
        report,
      );
    }
    if (op['x-portico-retry-safe'] !== undefined) {
      reportErrors(validateRetrySafe, op['x-portico-retry-safe'], 'x-portico-retry-safe', location.child(['x-portico-retry-safe']), report);
    }
  },
});

export default function porticoPlugin() {
  return {
    id: 'portico',
    rules: {
      oas3: {
        'operation-security': OperationSecurity,
        'auth-profile': AuthProfile,
        'operation-extensions': OperationExtensions,
      },
    },
  };
}
