// Placeholder: replaced by the service-discovery setup (env → phi-audit services up → testcontainers).
export default function setup(): void {}
