// The Marketplace tab: search as you type with filters, and a skill's page with its
// versions, scan report, ratings and reviews. A client of /api/marketplace.

import { apiJson } from "./api.js";
import { h, fill, details, list, localTime, titleCase } from "./dom.js";

const SORTS = ["relevance", "rating", "installs", "newest", "name"];
const STATUSES = ["active", "untrusted", "banned", "any"];
const TYPING_PAUSE_MS = 150;
const SEVERITY_ORDER = ["critical", "high", "medium", "low", "info"];

export class MarketplaceView {
  constructor(target) {
    this.target = target;
    this.timer = null;
    this.inFlight = null;
    this.query = h("input", { type: "search", id: "market-query", placeholder: "Search skills…", autocomplete: "off",
      "aria-label": "Search skills", oninput: () => this.searchSoon() });
    this.category = h("select", { id: "market-category", "aria-label": "Category", onchange: () => this.search() },
      h("option", { value: "" }, "all categories"));
    this.status = h("select", { id: "market-status", "aria-label": "Status", onchange: () => this.search() },
      STATUSES.map((status) => h("option", { value: status }, status)));
    this.sort = h("select", { id: "market-sort", "aria-label": "Sort by", onchange: () => this.search() },
      SORTS.map((sort) => h("option", { value: sort }, `sort: ${sort}`)));
    this.summary = h("p", { class: "muted small", role: "status", id: "market-summary" });
    this.results = h("ul", { class: "market-results", "aria-label": "Marketplace skills" });
    this.listing = h("div", {}, h("div", { class: "panel-head" }, h("h2", {}, "Marketplace"),
      h("div", { class: "toolbar" }, this.query, this.category, this.status, this.sort)), this.summary, this.results);
    this.page = h("div", { class: "market-page", hidden: true });
    fill(target, this.listing, this.page);
  }

  async load() {
    this.showListing();
    try {
      const { categories } = await apiJson("/api/marketplace/categories?status=any");
      const chosen = this.category.value;
      fill(this.category, h("option", { value: "" }, "all categories"),
        categories.map((c) => h("option", { value: c.name, selected: c.name === chosen }, `${titleCase(c.name)} (${c.count})`)));
    } catch (error) {
      this.summary.textContent = error.message;
    }
    await this.search();
  }

  searchSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), TYPING_PAUSE_MS);
  }

  async search() {
    this.inFlight?.abort();  // an answer to an older query must not overwrite a newer one
    const request = new AbortController();
    this.inFlight = request;
    const query = new URLSearchParams({ q: this.query.value, status: this.status.value, sort: this.sort.value, pageSize: "50" });
    if (this.category.value) query.set("category", this.category.value);
    try {
      const found = await apiJson(`/api/marketplace/skills?${query}`, { signal: request.signal });
      this.summary.textContent = `${found.total} skill${found.total === 1 ? "" : "s"}${found.total > found.skills.length ? `, first ${found.skills.length} shown` : ""}.`;
      fill(this.results, found.skills.length ? found.skills.map((skill) => this.card(skill)) : h("li", { class: "muted" }, "No skill matches."));
    } catch (error) {
      if (error.name !== "AbortError") fill(this.results, h("li", { class: "banner bad", role: "alert" }, error.message));
    }
  }

  card(skill) {
    return h("li", {},
      h("button", { type: "button", class: "market-card", "data-skill": skill.id, onclick: () => this.open(skill.id) },
        h("span", { class: "market-card-head" },
          h("strong", {}, skill.name), h("span", { class: "muted" }, ` ${skill.id} ${skill.latestVersion}`),
          h("span", { class: `badge ${skill.status}` }, skill.status)),
        h("span", { class: "market-description" }, skill.description),
        h("span", { class: "chips" },
          h("span", { class: "chip" }, titleCase(skill.category)),
          skill.tags.map((tag) => h("span", { class: "chip" }, `#${tag}`)),
          h("span", { class: "chip" }, stars(skill.ratingAverage, skill.ratingCount)),
          h("span", { class: "chip" }, `by ${skill.publisher}`))));
  }

  showListing() {
    this.listing.hidden = false;
    this.page.hidden = true;
  }

  async open(id) {
    try {
      const skill = await apiJson(`/api/marketplace/skills/${encodeURIComponent(id)}`);
      this.renderPage(skill);
    } catch (error) {
      fill(this.page, h("p", { class: "banner bad", role: "alert" }, error.message));
    }
    this.listing.hidden = true;
    this.page.hidden = false;
  }

  renderPage(skill) {
    const latest = skill.versions[0];
    fill(this.page,
      h("button", { type: "button", onclick: () => this.showListing() }, "← All skills"),
      h("h2", { id: "market-skill-title" }, skill.name, " ", h("span", { class: `badge ${skill.status}` }, skill.status)),
      h("p", { class: "muted" }, skill.description),
      details([
        ["Id", skill.id],
        ["Latest version", skill.latestVersion],
        ["Installable version", skill.installableVersion ?? "none (no active version)"],
        ["Publisher", skill.publisher.origin ? `${skill.publisher.name} of ${skill.publisher.origin}` : skill.publisher.name],
        ["Signing key", `${skill.publisher.keyFingerprint.slice(0, 16)}…`],
        ["Rating", stars(skill.ratings.average, skill.ratings.count)],
      ]),
      h("h3", {}, "Versions"),
      h("table", { class: "market-versions" },
        h("thead", {}, h("tr", {}, ["Version", "Status", "Why", "sha256", "Published"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, skill.versions.map((v) => h("tr", {},
          h("td", {}, v.version), h("td", {}, h("span", { class: `badge ${v.status}` }, v.status)),
          h("td", {}, v.overriddenBy ? `override by ${v.overriddenBy}: ${v.overrideReason}` : v.statusReason),
          h("td", { class: "code" }, `${v.sha256.slice(0, 12)}…`), h("td", {}, localTime(v.publishedAt)))))),
      latest.scan ? scanReport(latest) : h("p", { class: "muted" }, "Not scanned yet."),
      h("h3", {}, "Reviews"),
      histogram(skill.ratings),
      skill.reviews.length
        ? h("ul", { class: "market-reviews" }, skill.reviews.map((r) => h("li", {},
          h("strong", {}, r.user), " ", h("span", { class: "stars", "aria-label": `${r.stars} of 5 stars` }, "★".repeat(r.stars) + "☆".repeat(5 - r.stars)),
          h("p", {}, r.review))))
        : h("p", { class: "muted" }, "No reviews yet."));
  }
}

function scanReport(version) {
  const scan = version.scan;
  const findings = [...scan.findings].sort((a, b) => SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity));
  return h("section", { class: "market-scan", "aria-label": "Scan report" },
    h("h3", {}, `Scan report of ${version.version}: `, h("span", { class: `badge verdict-${scan.verdict}` }, scan.verdict)),
    h("p", { class: "muted small" }, `Rules v${scan.rulesVersion}, ${localTime(scan.finishedAt)}`),
    list(Object.entries(scan.scanners).map(([name, run]) => `${name}: ${run.ran ? "ran" : "did not run"} — ${run.detail}`), { class: "market-scanners" }),
    findings.length
      ? h("table", { class: "market-findings" },
        h("thead", {}, h("tr", {}, ["Severity", "Scanner", "Rule", "Where", "Excerpt"].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, findings.map((f) => h("tr", { class: `severity-${f.severity}` },
          h("td", {}, f.severity), h("td", {}, f.scanner), h("td", { title: f.message }, f.rule),
          h("td", { class: "code" }, f.line ? `${f.file}:${f.line}` : f.file), h("td", { class: "code" }, f.excerpt)))))
      : h("p", {}, "No findings."));
}

function histogram(ratings) {
  return h("ul", { class: "market-histogram", "aria-label": "Ratings" }, ["5", "4", "3", "2", "1"].map((s) => h("li", {},
    h("span", {}, `${s}★`),
    h("span", { class: "track" }, h("span", { class: "bar", style: `width: ${ratings.count ? (100 * ratings.histogram[s]) / ratings.count : 0}%` })),
    h("span", {}, String(ratings.histogram[s])))));
}

function stars(average, count) {
  return count ? `${average.toFixed(1)}★ (${count})` : "not rated";
}
