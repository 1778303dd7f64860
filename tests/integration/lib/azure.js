// azure.js — talking to a test castor the way Azure clients do, over plain HTTPS: tokens from
// the identity plane, ARM calls, data-plane calls. Shared by the integration tests.
import { request } from './castor.js';
import { randomUUID } from 'node:crypto';

export const AZURE_CLI = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const ADT_SCOPE = 'https://digitaltwins.azure.net/.default';
export const ARM_SCOPE = 'https://management.azure.com/.default';
export const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
export const ROLE = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  dataOwner: 'bcd981a7-7f74-457b-83e1-cceb9e632ffe',
  dataReader: 'd57506d4-4c8d-48b1-8587-93c323f6a5a3',
};

const form = (o) => Object.entries(o).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

// A user's token through the resource owner password grant (what UsernamePasswordCredential does).
export async function userToken(c, scope, { username = 'admin@castor.local', password = 'Castor-Test-Pw-1', clientId = AZURE_CLI } = {}) {
  const r = await request(c, 'POST', `/${c.connection.tenantId}/oauth2/v2.0/token`, {
    body: form({ grant_type: 'password', client_id: clientId, username, password, scope: `${scope} openid profile offline_access` }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  if (r.status !== 200) throw new Error(`token: ${r.status} ${r.text}`);
  return r.json.access_token;
}

export const bearer = (t) => ({ authorization: `Bearer ${t}` });

export async function arm(c, token, method, path, body) {
  const sep = path.includes('?') ? '&' : '?';
  const apiVersion = path.includes('Microsoft.Authorization') ? '2022-04-01'
    : path.includes('Microsoft.DigitalTwins') ? '2023-01-31' : '2021-04-01';
  const full = path.includes('api-version=') ? path : `${path}${sep}api-version=${apiVersion}`;
  const r = await request(c, method, full, { body: body === undefined ? undefined : JSON.stringify(body), headers: bearer(token) });
  return r;
}

export function scopes(c, rg = 'rg1') {
  const sub = `/subscriptions/${c.connection.subscriptionId}`;
  const group = `${sub}/resourceGroups/${rg}`;
  const instance = (name) => `${group}/providers/Microsoft.DigitalTwins/digitalTwinsInstances/${name}`;
  return { sub, group, instance };
}

// Creates the resource group (if needed) and an instance; returns its ARM id.
export async function createInstance(c, armToken, name, rg = 'rg1') {
  const s = scopes(c, rg);
  let r = await arm(c, armToken, 'PUT', s.group, { location: 'westus2' });
  if (r.status >= 300) throw new Error(`resource group: ${r.status} ${r.text}`);
  r = await arm(c, armToken, 'PUT', s.instance(name), { location: 'westus2' });
  if (r.status >= 300) throw new Error(`instance: ${r.status} ${r.text}`);
  return s.instance(name);
}

// Assigns a role at scope; returns the assignment's ARM id (for deleting it).
export async function assignRole(c, armToken, scope, roleGuid, principalId, principalType = 'User') {
  const id = `${scope}/providers/Microsoft.Authorization/roleAssignments/${randomUUID()}`;
  const r = await arm(c, armToken, 'PUT', id, {
    properties: {
      roleDefinitionId: `/subscriptions/${c.connection.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      principalId,
      principalType,
    },
  });
  if (r.status !== 201 && r.status !== 200) throw new Error(`role assignment: ${r.status} ${r.text}`);
  return id;
}

export function claims(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

export async function dp(c, token, method, path, body) {
  const sep = path.includes('?') ? '&' : '?';
  return request(c, method, `${path}${sep}api-version=2022-05-31`, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: token ? bearer(token) : {},
  });
}
