export {};
//# sourceMappingURL=tracking.test.d.ts.map