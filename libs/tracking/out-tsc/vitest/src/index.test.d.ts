export {};
//# sourceMappingURL=index.test.d.ts.map