// Public surface of @mlops-ts/clearml-client (filled in by the modules below as they land).
export {};
