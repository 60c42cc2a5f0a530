type Json = Record<string, unknown>;
/** Creates a passkey for the server's creation options; the credential's JSON form. */
export declare function createCredential(options: Json): Promise<Json>;
/** Asks for a passkey for the server's request options; the assertion's JSON form. */
export declare function getCredential(options: Json): Promise<Json>;
export {};
