// The browser's side of a passkey ceremony: the server's options (the JSON
// form, binary fields base64url) to navigator.credentials, and the credential
// back to its JSON form. Where the browser has PublicKeyCredential's own
// parse*FromJSON and toJSON they are used; elsewhere only base64url and
// ArrayBuffer are converted here (the WebAuthn data itself is the server's to parse).
function toBytes(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const binary = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++)
        bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
}
function toText(buffer) {
    const bytes = buffer instanceof ArrayBuffer ? new Uint8Array(buffer) : new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    let binary = "";
    for (const byte of bytes)
        binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
const withIds = (list) => Array.isArray(list) ? list.map((c) => ({ ...c, id: toBytes(c.id) })) : list;
function creationOptions(options) {
    const parse = globalThis.PublicKeyCredential?.parseCreationOptionsFromJSON;
    if (parse)
        return parse(options);
    const user = options.user;
    return {
        ...options,
        challenge: toBytes(options.challenge),
        user: { ...user, id: toBytes(user.id) },
        excludeCredentials: withIds(options.excludeCredentials),
    };
}
function requestOptions(options) {
    const parse = globalThis.PublicKeyCredential?.parseRequestOptionsFromJSON;
    if (parse)
        return parse(options);
    return {
        ...options,
        challenge: toBytes(options.challenge),
        allowCredentials: withIds(options.allowCredentials),
    };
}
function credentialJson(credential) {
    const own = credential.toJSON;
    if (own)
        return own.call(credential);
    const response = credential.response;
    const fields = {};
    for (const name of ["clientDataJSON", "attestationObject", "authenticatorData", "signature", "userHandle"]) {
        const value = response[name];
        if (value instanceof ArrayBuffer)
            fields[name] = toText(value);
    }
    return {
        id: credential.id,
        rawId: toText(credential.rawId),
        type: credential.type,
        response: fields,
        clientExtensionResults: credential.getClientExtensionResults(),
    };
}
function credentials() {
    const container = globalThis.navigator?.credentials;
    if (!container || !globalThis.PublicKeyCredential) {
        throw new Error("Passkeys need a browser with WebAuthn (navigator.credentials), on https or localhost.");
    }
    return container;
}
/** Creates a passkey for the server's creation options; the credential's JSON form. */
export async function createCredential(options) {
    const created = await credentials().create({ publicKey: creationOptions(options) });
    if (!created)
        throw new Error("No passkey was created.");
    return credentialJson(created);
}
/** Asks for a passkey for the server's request options; the assertion's JSON form. */
export async function getCredential(options) {
    const found = await credentials().get({ publicKey: requestOptions(options) });
    if (!found)
        throw new Error("No passkey was chosen.");
    return credentialJson(found);
}
