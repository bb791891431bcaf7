// The reference API app is built in its own change.
export {};
