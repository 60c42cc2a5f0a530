/** Calls `changed` whenever another tab or client changed `key`; returns the announcer for our own changes. */
export declare function watchTabs(key: string, changed: () => void): () => void;
