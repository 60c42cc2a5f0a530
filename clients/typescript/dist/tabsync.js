// How tabs of one origin learn that the stored session changed: the storage
// event reaches every other tab, a BroadcastChannel also reaches other clients
// in the same page. Both only say "look again": the receiver reads
// localStorage itself, so a late or doubled signal cannot bring back an old
// session. Tabs never lock each other out: two that refresh at once send the
// same refresh token, and the server's reuse grace gives both the same pair.
/** Calls `changed` whenever another tab or client changed `key`; returns the announcer for our own changes. */
export function watchTabs(key, changed) {
    if (typeof addEventListener === "function") {
        addEventListener("storage", (event) => {
            if (event.key === key || event.key === null)
                changed();
        });
    }
    if (typeof BroadcastChannel !== "function")
        return () => { };
    const channel = new BroadcastChannel(`authlite:${key}`);
    channel.onmessage = changed;
    channel.unref?.();
    return () => channel.postMessage(0);
}
