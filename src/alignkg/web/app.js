/* alignkg web page: the SPARQL workbench (vendored YASGUI) and the evidence browser.
 *
 * Plain script, no build step. Every request goes to this page's own origin: the
 * JSON API under /api/ and the SPARQL endpoint at /sparql. Strings from the API are
 * put into the page with textContent or attributes, never parsed as HTML.
 */
"use strict";

(() => {
  const ORIGIN = window.location.origin;
  const ENDPOINT = ORIGIN + "/sparql";
  const DEFAULT_QUERY = "stage-per-dyad-year";
  const DEFAULT_DYAD = "CHN-RUS";
  const STAGES = ["early", "moderate", "advanced"];
  // Result tables start in YASR's "simple view": prefixed IRIs, plain literals.
  const TABLE_SETTINGS = { compact: true, pageSize: 50 };

  const state = {
    prefixes: {},
    queries: [],
    yasgui: null,
    grid: null,
    dyads: [],
  };

  // ---------------------------------------------------------------- helpers

  /** Create an element; `text` is set with textContent (never parsed as HTML). */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = String(value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  async function getJSON(path) {
    const url = new URL(path, ORIGIN);
    if (url.origin !== ORIGIN) throw new Error("refusing to fetch outside this server: " + path);
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    if (!response.ok) {
      const message = body && typeof body.error === "string" ? body.error : response.statusText;
      throw new Error(`${url.pathname}: ${response.status} ${message}`);
    }
    return body;
  }

  function showStatus(message) {
    const box = document.getElementById("status");
    box.textContent = message;
    box.hidden = !message;
  }

  function reportError(error) {
    console.error(error);
    showStatus(String(error && error.message ? error.message : error));
  }

  /** Only http(s) URLs become links (no javascript:, data: or relative links from data). */
  function safeHttpUrl(text) {
    try {
      const url = new URL(String(text));
      return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  /** A language tag fit for the lang attribute, or null. */
  function langTag(text) {
    const tag = String(text || "").trim();
    return /^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(tag) ? tag : null;
  }

  function shortRule(rule) {
    return String(rule || "").split("#").pop().split("/").pop();
  }

  function levelLetter(level) {
    return level === "high" ? "H" : level === "low" ? "L" : "?";
  }

  // ---------------------------------------------------------------- views

  function showView(name) {
    const view = name === "evidence" ? "evidence" : "workbench";
    for (const section of document.querySelectorAll("main > .view")) {
      section.hidden = section.id !== view;
    }
    for (const link of document.querySelectorAll("nav a[data-view]")) {
      if (link.dataset.view === view) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    }
    if (view === "workbench" && state.yasgui) {
      // CodeMirror measures itself; refresh after being hidden.
      const tab = state.yasgui.getTab();
      if (tab && tab.getYasqe()) tab.getYasqe().refresh();
    }
  }

  function viewFromHash() {
    return window.location.hash.replace(/^#/, "").split("/")[0] || "workbench";
  }

  // ---------------------------------------------------------------- workbench

  /** Switch off every YASGUI feature that would talk to another host or persist data. */
  function configureYasguiOffline(Yasgui, projectPrefixes) {
    const Yasqe = Yasgui.Yasqe;
    // Class and property completion ask lov.linkeddata.es: drop them. The remaining
    // completers work from the query text (variables) and a local prefix list.
    const keep = ["variables", "prefixes"];
    for (const list of [Yasqe.defaults.autocompleters, Yasgui.defaults.yasqe.autocompleters]) {
      if (Array.isArray(list)) list.splice(0, list.length, ...keep);
    }
    delete Yasqe.Autocompleters.class;
    delete Yasqe.Autocompleters.property;
    // Prefix completion: the project's prefixes first, then YASQE's bundled list; never
    // prefix.cc, and no copy in localStorage.
    Yasqe.defaults.prefixCcApi = null;
    const bundled = Yasqe.Autocompleters.prefixes;
    if (bundled) {
      const ours = Object.entries(projectPrefixes).map(([p, iri]) => `${p}: <${iri}>`);
      Yasqe.Autocompleters.prefixes = {
        ...bundled,
        persistenceId: null,
        get: (yasqe) =>
          Promise.resolve(bundled.get(yasqe)).then((list) => {
            const others = (list || []).filter((entry) => !(entry.split(":")[0] in projectPrefixes));
            return [...ours.sort(), ...others];
          }),
      };
    }
    // No URL shortener, no share links read from the URL.
    Yasqe.defaults.createShortLink = undefined;
    Yasqe.defaults.consumeShareLink = null;
    Yasqe.defaults.persistenceId = null;
  }

  /** The query text with every project prefix declared (missing ones added after the others). */
  function withProjectPrefixes(text, prefixes) {
    const declared = new Set();
    for (const match of text.matchAll(/^\s*PREFIX\s+([A-Za-z][\w.-]*)?:/gim)) declared.add(match[1] || "");
    const missing = Object.entries(prefixes)
      .filter(([prefix]) => !declared.has(prefix))
      .map(([prefix, iri]) => `PREFIX ${prefix}: <${iri}>`);
    if (!missing.length) return text;
    const lines = text.split("\n");
    let at = 0;
    for (let i = 0; i < lines.length; i += 1) {
      const line = lines[i].trim();
      if (/^PREFIX\b/i.test(line) || /^BASE\b/i.test(line)) at = i + 1;
      else if (line === "" || line.startsWith("#")) {
        if (!declared.size) at = i + 1;
      } else break;
    }
    lines.splice(at, 0, ...missing);
    return lines.join("\n");
  }

  function describeQuery(name) {
    const query = state.queries.find((q) => q.name === name);
    document.getElementById("query-description").textContent = query
      ? query.description
      : "";
  }

  function openNamedQuery(name) {
    const query = state.queries.find((q) => q.name === name);
    if (!query || !state.yasgui) return null;
    const text = withProjectPrefixes(query.text, state.prefixes);
    let tab = state.yasgui.tabNameTaken(name);
    if (tab) {
      state.yasgui.selectTabId(tab.getId());
      tab.setQuery(text);
    } else {
      tab = state.yasgui.addTab(true, {
        name,
        yasqe: { value: text },
        requestConfig: { endpoint: ENDPOINT },
        yasr: { settings: { selectedPlugin: "table", pluginsConfig: { table: TABLE_SETTINGS } } },
      });
    }
    const yasqe = tab.getYasqe();
    if (yasqe) {
      yasqe.collapsePrefixes(true);
      yasqe.refresh();
    }
    document.getElementById("query-picker").value = name;
    describeQuery(name);
    return tab;
  }

  function runCurrentQuery() {
    const tab = state.yasgui && state.yasgui.getTab();
    if (!tab) return;
    tab.query().catch((error) => console.warn("query failed", error));
  }

  async function initWorkbench() {
    document.getElementById("endpoint-url").textContent = ENDPOINT;
    const [prefixes, queries] = await Promise.all([getJSON("/api/prefixes"), getJSON("/api/queries")]);
    state.prefixes = prefixes.prefixes || {};
    state.queries = (queries.queries || []).slice().sort((a, b) => a.name.localeCompare(b.name));

    const picker = document.getElementById("query-picker");
    picker.replaceChildren(
      ...state.queries.map((q) => el("option", { value: q.name, title: q.description, text: q.name })),
    );
    picker.addEventListener("change", () => describeQuery(picker.value));
    document.getElementById("query-form").addEventListener("submit", (event) => {
      event.preventDefault();
      openNamedQuery(picker.value);
    });
    document.getElementById("run-query").addEventListener("click", runCurrentQuery);

    const Yasgui = window.Yasgui;
    if (!Yasgui) throw new Error("the vendored YASGUI bundle did not load (/static/vendor/yasgui.min.js)");
    configureYasguiOffline(Yasgui, state.prefixes);
    state.yasgui = new Yasgui(document.getElementById("yasgui"), {
      // Nothing is stored across visits: no tabs, queries or results in localStorage.
      persistenceId: null,
      persistencyExpire: 0,
      // Do not build tabs from the URL (a shared link could name another endpoint).
      populateFromUrl: false,
      autoAddOnInit: false,
      autofocus: false,
      tabName: "Query",
      corsProxy: undefined,
      copyEndpointOnNewTab: true,
      requestConfig: { endpoint: ENDPOINT, method: "POST" },
      // The endpoint catalogue lists only this server's endpoint.
      endpointCatalogueOptions: { getData: () => [{ endpoint: ENDPOINT }], keys: [] },
      yasqe: {
        persistenceId: null,
        prefixCcApi: null,
        editorHeight: "230px",
        resizeable: true,
      },
      yasr: {
        persistenceId: null,
        prefixes: state.prefixes,
        pluginOrder: ["table", "response"],
        defaultPlugin: "table",
      },
    });
    const first = state.queries.some((q) => q.name === DEFAULT_QUERY)
      ? DEFAULT_QUERY
      : state.queries.length
        ? state.queries[0].name
        : null;
    if (first) openNamedQuery(first);
    else {
      state.yasgui.addTab(true, {
        requestConfig: { endpoint: ENDPOINT },
        yasr: { settings: { selectedPlugin: "table", pluginsConfig: { table: TABLE_SETTINGS } } },
      });
    }
    document.body.dataset.workbench = "ready";
  }

  // ---------------------------------------------------------------- evidence browser

  function bandRuns(rows, years) {
    // Consecutive years with the same stage and level form one band.
    const byYear = new Map(rows.map((r) => [r.year, r]));
    const runs = [];
    for (const year of years) {
      const row = byYear.get(year);
      const key = row ? `${row.stage}|${row.level || ""}` : "";
      const last = runs[runs.length - 1];
      if (last && last.key === key && last.last === year - 1) {
        last.last = year;
      } else {
        runs.push({ key, first: year, last: year, row });
      }
    }
    return runs;
  }

  function bandText(run) {
    if (!run.row) return "";
    const span = run.last - run.first + 1;
    const stage = run.row.stage;
    const level = run.row.level || "";
    if (span >= 4) return level ? `${stage} (${level})` : stage;
    if (span >= 2) return `${stage.slice(0, 3)}. ${levelLetter(level)}`;
    return `${stage.charAt(0).toUpperCase()}${level ? "·" + levelLetter(level) : ""}`;
  }

  const READINGS = [
    { key: "strict", label: "Strict ladder" },
    { key: "manifested", label: "Highest manifested" },
  ];

  function renderGrid(grid) {
    const table = document.getElementById("grid");
    const years = grid.years || [];
    const cells = new Map((grid.cells || []).map((c) => [`${c.year}|${c.rung}`, c]));
    const indicators = (grid.indicators || []).slice().sort((a, b) => a.rung - b.rung);
    table.dataset.dyad = grid.dyad;

    // Column widths: stage, indicator, one per year.
    const colgroup = el("colgroup", {}, el("col", { class: "col-stage" }), el("col", { class: "col-indicator" }));
    for (const year of years) colgroup.append(el("col", { class: "col-year", dataset: { year } }));

    const head = el("thead");
    const yearRow = el("tr", { class: "years" }, el("td", { colspan: 2 }));
    for (const year of years) yearRow.append(el("th", { scope: "col", dataset: { year }, text: year }));
    head.append(yearRow);

    // Stage bands of both readings, then their precursors.
    const bands = el("tbody", { class: "bands" });
    for (const reading of READINGS) {
      const rows = (grid.stages && grid.stages[reading.key]) || [];
      const tr = el("tr", { class: `band band-${reading.key}`, dataset: { reading: reading.key } },
        el("th", { scope: "row", colspan: 2, text: reading.label }));
      for (const run of bandRuns(rows, years)) {
        const label = run.row
          ? `${reading.label}, ${run.first === run.last ? run.first : `${run.first}–${run.last}`}: ${run.row.stage} stage${run.row.level ? `, ${run.row.level} level` : ""}`
          : `${reading.label}, ${run.first}–${run.last}: no assessment`;
        const td = el("td", {
          colspan: run.last - run.first + 1,
          class: run.row ? `band-cell stage-${run.row.stage} level-${run.row.level || "none"}` : "band-cell none",
          title: label,
          dataset: {
            first: run.first,
            last: run.last,
            stage: run.row ? run.row.stage : "",
            level: run.row ? run.row.level || "" : "",
          },
        }, el("span", { "aria-hidden": "true", text: bandText(run) }), el("span", { class: "visually-hidden", text: label }));
        tr.append(td);
      }
      bands.append(tr);
      if (rows.some((r) => (r.precursors || []).length)) {
        const byYear = new Map(rows.map((r) => [r.year, r]));
        const pre = el("tr", { class: `precursors precursors-${reading.key}`, dataset: { reading: reading.key } },
          el("th", { scope: "row", colspan: 2, class: "sub", text: "precursors" }));
        for (const year of years) {
          const found = (byYear.get(year) && byYear.get(year).precursors) || [];
          pre.append(el("td", {
            dataset: { year },
            title: found.length ? `${reading.label} ${year}: precursors (indicators ${found.join(", ")}) present above the stage reached` : undefined,
            text: found.length ? "+" + found.join(" ") : "",
          }));
        }
        bands.append(pre);
      }
    }

    const bodies = [];
    for (const stage of STAGES) {
      const group = indicators.filter((i) => i.stage === stage);
      if (!group.length) continue;
      const body = el("tbody", { class: `indicators stage-${stage}`, dataset: { stage } });
      group.forEach((indicator, index) => {
        const tr = el("tr", { class: "indicator", dataset: { rung: indicator.rung } });
        if (index === 0) {
          tr.append(el("th", { scope: "rowgroup", rowspan: group.length, class: `stage-label stage-${stage}` },
            el("span", { text: stage })));
        }
        tr.append(el("th", { scope: "row", class: "indicator-label" },
          el("span", { class: "rung", text: indicator.rung }), " ", indicator.label));
        for (const year of years) {
          const cell = cells.get(`${year}|${indicator.rung}`);
          if (!cell) {
            tr.append(el("td", { class: "cell-empty", dataset: { year, rung: indicator.rung } }));
            continue;
          }
          const events = Number(cell.events) || 0;
          const findings = Number(cell.findings) || 0;
          const label = `${indicator.label} (indicator ${indicator.rung}), ${year}: ${cell.level} level, ` +
            `${events} event${events === 1 ? "" : "s"}` +
            (findings ? `, ${findings} validation finding${findings === 1 ? "" : "s"}` : "");
          const button = el("button", {
            type: "button",
            class: `cell level-${cell.level}${findings ? " flagged" : ""}`,
            "aria-label": label,
            title: label,
            "aria-controls": "cell-panel",
            "aria-pressed": "false",
            tabindex: "-1",
            dataset: { year, rung: indicator.rung, level: cell.level, findings },
          }, levelLetter(cell.level), findings ? el("span", { class: "flag", "aria-hidden": "true", text: "!" }) : null);
          tr.append(el("td", { dataset: { year, rung: indicator.rung } }, button));
        }
        body.append(tr);
      });
      bodies.push(body);
    }
    table.replaceChildren(colgroup, head, bands, ...bodies);
    // One tab stop into the grid; arrow keys move inside it.
    const firstButton = table.querySelector("button.cell");
    if (firstButton) firstButton.tabIndex = 0;
  }

  function cellButtons() {
    return Array.from(document.querySelectorAll("#grid button.cell"));
  }

  function focusCell(button) {
    for (const other of cellButtons()) other.tabIndex = other === button ? 0 : -1;
    button.focus();
  }

  function onGridKey(event) {
    const button = event.target.closest("button.cell");
    if (!button) return;
    const year = Number(button.dataset.year);
    const rung = Number(button.dataset.rung);
    const buttons = cellButtons();
    let target = null;
    const key = event.key;
    if (key === "ArrowLeft" || key === "ArrowRight") {
      const row = buttons.filter((b) => Number(b.dataset.rung) === rung);
      const i = row.indexOf(button) + (key === "ArrowRight" ? 1 : -1);
      target = row[i] || null;
    } else if (key === "ArrowUp" || key === "ArrowDown") {
      const step = key === "ArrowDown" ? 1 : -1;
      // Nearest present cell in the next row (same year if present, else closest year).
      for (let r = rung + step; r >= 1 && r <= 7 && !target; r += step) {
        const row = buttons.filter((b) => Number(b.dataset.rung) === r);
        if (!row.length) continue;
        target = row.reduce((best, b) =>
          Math.abs(Number(b.dataset.year) - year) < Math.abs(Number(best.dataset.year) - year) ? b : best);
      }
    } else if (key === "Home" || key === "End") {
      const row = buttons.filter((b) => Number(b.dataset.rung) === rung);
      target = key === "Home" ? row[0] : row[row.length - 1];
    } else {
      return;
    }
    event.preventDefault();
    if (target) focusCell(target);
  }

  function markSelected(year, rung) {
    for (const button of cellButtons()) {
      const on = Number(button.dataset.year) === year && Number(button.dataset.rung) === rung;
      button.classList.toggle("selected", on);
      button.setAttribute("aria-pressed", on ? "true" : "false");
      if (on) focusCell(button);
    }
  }

  function renderEvent(event) {
    const article = el("article", { class: "event", dataset: { iri: event.iri } });
    article.append(el("h3", { text: event.label || event.iri }));

    const meta = el("dl", { class: "meta" });
    const add = (term, ...value) => meta.append(el("dt", { text: term }), el("dd", {}, ...value));
    if (event.start) add("date", event.start, event.precision ? el("span", { class: "muted", text: ` (precision: ${event.precision})` }) : null);
    if (event.level) add("level", el("span", { class: `tag level-${event.level}`, text: `${levelLetter(event.level)} ${event.level}` }));
    if (event.location) add("coded at", el("code", { text: event.location }));
    add("IRI", el("code", { class: "iri", text: event.iri }));
    article.append(meta);

    const quotes = event.quotes || [];
    if (quotes.length) {
      article.append(el("h4", { text: quotes.length === 1 ? "Quote" : "Quotes" }));
      for (const quote of quotes) {
        article.append(el("blockquote", { class: "quote" }, el("p", { text: quote })));
      }
    }

    const decisions = event.decisions || [];
    if (decisions.length) {
      article.append(el("h4", { text: "Coding decisions" }));
      article.append(el("ul", { class: "decisions" }, ...decisions.map((d) =>
        el("li", {}, el("span", { class: "decision", text: d.decision }),
          d.reason ? el("span", { class: "reason" }, " — because ", d.reason) : null))));
    }

    const sources = event.sources || [];
    if (sources.length) {
      article.append(el("h4", { text: sources.length === 1 ? "Source" : "Sources" }));
      article.append(el("ul", { class: "sources" }, ...sources.map(renderSource)));
    }

    article.append(el("h4", { text: "Validation findings" }));
    article.append(findingsList(event.findings || []));
    return article;
  }

  function findingsList(findings) {
    if (!findings.length) return el("p", { class: "muted", text: "none" });
    return el("ul", { class: "findings" }, ...findings.map((f) =>
      el("li", { class: `finding severity-${String(f.severity || "").toLowerCase()}`, dataset: { rule: shortRule(f.rule) } },
        el("span", { class: "severity", text: f.severity }), " ",
        el("code", { class: "rule", title: f.rule, text: shortRule(f.rule) }), " ",
        el("span", { class: "message", text: f.message }))));
  }

  function renderSource(source) {
    const li = el("li", { class: "source", dataset: { iri: source.iri } });
    const printed = source.printed_title || "";
    const english = source.title || "";
    const lang = langTag(source.language);
    if (printed) {
      li.append(el("cite", { class: "printed-title", lang: lang || undefined, text: printed }));
      if (english && english !== printed) li.append(" ", el("span", { class: "english-title", text: `[${english}]` }));
    } else {
      li.append(el("cite", { class: "english-title", text: english || source.iri }));
    }
    const tags = el("span", { class: "tags" });
    if (source.language) tags.append(el("span", { class: "tag language", title: "language", text: source.language }));
    if (source.kind) tags.append(el("span", { class: "tag kind", title: "kind of document", text: source.kind }));
    li.append(" ", tags);
    const href = safeHttpUrl(source.url);
    if (href) {
      // Opens in a new tab on request; the page itself never fetches it.
      li.append(" ", el("a", {
        class: "source-link",
        href,
        target: "_blank",
        rel: "noopener noreferrer",
        referrerpolicy: "no-referrer",
        text: "open source",
        title: href,
      }));
      li.append(el("span", { class: "url", text: href }));
    } else if (source.url) {
      li.append(" ", el("span", { class: "url", text: source.url }));
    }
    return li;
  }

  async function showCell(dyad, year, rung) {
    const panel = document.getElementById("cell-panel");
    const body = document.getElementById("panel-body");
    const title = document.getElementById("panel-title");
    document.getElementById("panel-hint").hidden = true;
    markSelected(year, rung);
    panel.setAttribute("aria-busy", "true");
    try {
      const params = new URLSearchParams({ dyad, year: String(year), rung: String(rung) });
      const cell = await getJSON("/api/cell?" + params.toString());
      const events = cell.events || [];
      title.textContent = `${cell.dyad} ${cell.year} · indicator ${cell.rung}: ${cell.indicator}`;
      const summary = el("p", { class: "cell-summary" },
        "level ", el("span", { class: `tag level-${cell.level}`, text: `${levelLetter(cell.level)} ${cell.level}` }),
        ` · ${events.length} event${events.length === 1 ? "" : "s"} active in ${cell.year}`);
      // Findings on the indicator-year itself (the ladder's rules), before its events'.
      const ladder = cell.findings || [];
      const onCell = ladder.length
        ? [el("section", { class: "cell-findings" },
            el("h4", { text: `Findings on indicator ${cell.rung} in ${cell.year}` }),
            findingsList(ladder))]
        : [];
      body.replaceChildren(summary, ...onCell, ...events.map(renderEvent));
      panel.dataset.year = String(cell.year);
      panel.dataset.rung = String(cell.rung);
      history.replaceState(null, "", `#evidence/${encodeURIComponent(dyad)}/${year}/${rung}`);
    } catch (error) {
      title.textContent = "Events";
      body.replaceChildren(el("p", { class: "error", text: String(error.message || error) }));
    } finally {
      panel.removeAttribute("aria-busy");
    }
  }

  async function loadDyad(dyad) {
    showStatus("");
    const grid = await getJSON("/api/grid?" + new URLSearchParams({ dyad }).toString());
    state.grid = grid;
    renderGrid(grid);
    const years = grid.years || [];
    const info = (state.dyads || []).find((d) => d.dyad === grid.dyad);
    document.getElementById("dyad-summary").textContent =
      `${years.length ? `${years[0]}–${years[years.length - 1]}` : "no years"}` +
      (info ? ` · ${info.events} coded events` : "");
    document.getElementById("panel-title").textContent = "Events";
    document.getElementById("panel-hint").hidden = false;
    document.getElementById("panel-body").replaceChildren();
    document.getElementById("grid").dataset.ready = "true";
  }

  async function loadFindings() {
    const data = await getJSON("/api/findings");
    document.getElementById("findings-summary").textContent = data.summary || "";
    const list = document.getElementById("findings-list");
    list.replaceChildren(...(data.findings || []).map((f) =>
      el("li", { class: `finding severity-${String(f.severity || "").toLowerCase()}` },
        el("span", { class: "severity", text: f.severity }), " ",
        el("code", { class: "rule", title: f.rule, text: shortRule(f.rule) }), " ",
        el("span", { class: "message", text: f.message }), " ",
        el("code", { class: "focus", text: f.focus }),
        f.location ? el("span", { class: "muted", text: ` (${f.location})` }) : null)));
  }

  async function initEvidence() {
    const data = await getJSON("/api/dyads");
    state.dyads = data.dyads || [];
    const picker = document.getElementById("dyad-picker");
    picker.replaceChildren(...state.dyads.map((d) =>
      el("option", { value: d.dyad, text: `${d.dyad} (${d.first}–${d.last})` })));
    const [, hashDyad, hashYear, hashRung] = window.location.hash.replace(/^#/, "").split("/");
    const wanted = [hashDyad, DEFAULT_DYAD].find((d) => d && state.dyads.some((x) => x.dyad === d));
    const dyad = wanted || (state.dyads[0] && state.dyads[0].dyad);
    if (!dyad) {
      document.getElementById("dyad-summary").textContent = "no dyads in the graph";
      return;
    }
    picker.value = dyad;
    picker.addEventListener("change", () => loadDyad(picker.value).catch(reportError));

    const table = document.getElementById("grid");
    table.addEventListener("click", (event) => {
      const button = event.target.closest("button.cell");
      if (!button || !state.grid) return;
      showCell(state.grid.dyad, Number(button.dataset.year), Number(button.dataset.rung)).then(() => {
        document.getElementById("cell-panel").scrollIntoView({ block: "nearest" });
      });
    });
    table.addEventListener("keydown", onGridKey);

    await loadDyad(dyad);
    if (hashDyad === dyad && hashYear && hashRung) {
      await showCell(dyad, Number(hashYear), Number(hashRung));
    }
    loadFindings().catch(reportError);
  }

  // ---------------------------------------------------------------- start

  function start() {
    window.addEventListener("hashchange", () => showView(viewFromHash()));
    showView(viewFromHash());
    Promise.allSettled([
      initWorkbench().catch((error) => {
        document.body.dataset.workbench = "failed";
        throw error;
      }),
      initEvidence(),
    ]).then((results) => {
      for (const result of results) if (result.status === "rejected") reportError(result.reason);
      showView(viewFromHash());
      document.body.dataset.ready = "true";
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
