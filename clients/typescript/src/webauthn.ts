// The browser's side of a passkey ceremony: the server's options (the JSON
// form, binary fields base64url) to navigator.credentials, and the credential
// back to its JSON form. Where the browser has PublicKeyCredential's own
// parse*FromJSON and toJSON they are used; elsewhere only base64url and
// ArrayBuffer are converted here (the WebAuthn data itself is the server's to parse).

type Json = Record<string, unknown>;

interface JsonCapable {
  parseCreationOptionsFromJSON?: (options: Json) => CredentialCreationOptions["publicKey"];
  parseRequestOptionsFromJSON?: (options: Json) => CredentialRequestOptions["publicKey"];
}

function toBytes(text: string): ArrayBuffer {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function toText(buffer: ArrayBuffer | ArrayBufferView): string {
  const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const withIds = (list: unknown) =>
  Array.isArray(list) ? list.map((c: Json) => ({ ...c, id: toBytes(c.id as string) })) : list;

function creationOptions(options: Json): CredentialCreationOptions["publicKey"] {
  const parse = (globalThis.PublicKeyCredential as unknown as JsonCapable | undefined)?.parseCreationOptionsFromJSON;
  if (parse) return parse(options);
  const user = options.user as Json;
  return {
    ...options,
    challenge: toBytes(options.challenge as string),
    user: { ...user, id: toBytes(user.id as string) },
    excludeCredentials: withIds(options.excludeCredentials),
  } as unknown as CredentialCreationOptions["publicKey"];
}

function requestOptions(options: Json): CredentialRequestOptions["publicKey"] {
  const parse = (globalThis.PublicKeyCredential as unknown as JsonCapable | undefined)?.parseRequestOptionsFromJSON;
  if (parse) return parse(options);
  return {
    ...options,
    challenge: toBytes(options.challenge as string),
    allowCredentials: withIds(options.allowCredentials),
  } as unknown as CredentialRequestOptions["publicKey"];
}

function credentialJson(credential: PublicKeyCredential): Json {
  const own = (credential as unknown as { toJSON?: () => Json }).toJSON;
  if (own) return own.call(credential);
  const response = credential.response as unknown as Record<string, unknown>;
  const fields: Json = {};
  for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
    const value = response[name];
    if (value instanceof ArrayBuffer) fields[name] = toText(value);
  }
  return {
    id: credential.id,
    rawId: toText(credential.rawId),
    type: credential.type,
    response: fields,
    clientExtensionResults: credential.getClientExtensionResults(),
  };
}

function credentials(): CredentialsContainer {
  const container = (globalThis.navigator as Navigator | undefined)?.credentials;
  if (!container || !globalThis.PublicKeyCredential) {
    throw new Error("Passkeys need a browser with WebAuthn (navigator.credentials), on https or localhost.");
  }
  return container;
}

/** Creates a passkey for the server's creation options; the credential's JSON form. */
export async function createCredential(options: Json): Promise<Json> {
  const created = await credentials().create({ publicKey: creationOptions(options) });
  if (!created) throw new Error("No passkey was created.");
  return credentialJson(created as PublicKeyCredential);
}

/** Asks for a passkey for the server's request options; the assertion's JSON form. */
export async function getCredential(options: Json): Promise<Json> {
  const found = await credentials().get({ publicKey: requestOptions(options) });
  if (!found) throw new Error("No passkey was chosen.");
  return credentialJson(found as PublicKeyCredential);
}
