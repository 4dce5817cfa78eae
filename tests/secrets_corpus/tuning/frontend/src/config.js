export const config = {
  sentryDsn: "⟦~https://a1b2c3d4e5f60718293a4b5c6d7e8f90@o123456.ingest.sentry.io/4504123456789012⟧",
  stripePublishableKey: "⟦~pk_live_51Mz9QpLk2VbN8cR4sT6vW0yA2zB4dF6hJ8kL0mN2pQ4rS6tU8vW0xY2zA4⟧",
  mapboxToken: "⟦~pk.eyJ1IjoiYm9va3NoZWxmIiwiYSI6ImNsb2s5eWZ4ZzBhYjIya3BpdTR6dGd6eGcifQ.Xk2mQ9vLp4TzR8wN1sB6fA⟧",
  recaptchaSiteKey: "⟦~6LcQ8xIpAAAAAB3kZ9vTq2mW7nR4sY1uE6oP0dJh⟧",
  gaMeasurementId: "⟦~G-7XK2M9QPL4⟧",
  algoliaAppId: "⟦~K7QW3ZP9XR⟧",
  algoliaSearchKey: "⟦~5c1f6a2b9d3e4f708a1b2c3d4e5f6a7b⟧",
  algoliaAdminKey: "⟦hex-api-key⟧",
  apiBase: "https://api.bookshelf.example.org",
  theme: { primary: "⟦~#3b82f6⟧", accent: "#f59e0b" },
  logo: "⟦~data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAGklEQVQ4jWNgGAWjYBSMglEwCkbBKBgFQwsAAAQQAAGkmqhCAAAAAElFTkSuQmCC⟧",
};
