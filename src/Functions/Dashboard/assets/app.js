// The Jobs dashboard: plain DOM, no framework, nothing fetched from elsewhere. Every value from the API is put on the
// page as text (textContent, attributes) and never as markup, so hostile job data shows literally.
'use strict';

(() => {
  const apiBase = location.pathname.replace(/\/dashboard\/?$/, '');
  const key = new URLSearchParams(location.search).get('code');
  const statuses = ['draft', 'pending', 'queued', 'running', 'waiting', 'completed', 'failed', 'cancelled', 'timed_out'];
  const live = new Set(['pending', 'queued', 'running', 'waiting']);
  // What the API lists when no limit is asked (JobListing: limit defaults to 50): the list always sends its limit, so
  // the "Per page" control and the page it shows agree.
  const defaultLimit = '50';
  const main = document.getElementById('main');
  const notice = document.getElementById('notice');
  let view = { dispose() {} };
  let jobTypes = null;

  // ---- the API -------------------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem;
    }
  }

  function apiUrl(path, params) {
    const url = new URL(apiBase + path, location.origin);
    for (const [name, value] of params || []) {
      url.searchParams.append(name, value);
    }
    if (key) {
      url.searchParams.set('code', key);
    }
    return url.toString();
  }

  async function api(method, path, { params, body } = {}) {
    const response = await fetch(apiUrl(path, params), {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
    const text = await response.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (!response.ok) {
      throw new ApiError(response.status, data);
    }
    return data;
  }

  async function types() {
    if (!jobTypes) {
      jobTypes = (await api('GET', '/job-types')).jobTypes;
    }
    return jobTypes;
  }

  // ---- building the page: elements only, text only ---------------------------------------------------------------

  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) {
        continue;
      }
      if (name === 'onClick') {
        element.addEventListener('click', value);
      } else if (name === 'onSubmit') {
        element.addEventListener('submit', value);
      } else if (name === 'onChange') {
        element.addEventListener('change', value);
      } else {
        element.setAttribute(name, value === true ? '' : String(value));
      }
    }
    append(element, children);
    return element;
  }

  function append(element, children) {
    for (const child of children.flat(Infinity)) {
      if (child === undefined || child === null || child === false) {
        continue;
      }
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return element;
  }

  function replace(element, ...children) {
    element.replaceChildren();
    return append(element, children);
  }

  function say(message, kind) {
    replace(notice, message ? h('p', { class: `notice ${kind || ''}` }, message) : null);
  }

  // A moment as people read it ("in 5 min", "3 min ago"), the exact local time on hover; the relative text is kept
  // current by one page-wide timer (see the end of this file).
  function time(value) {
    if (!value) {
      return '—';
    }
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      return String(value);
    }
    return h('time', { datetime: date.toISOString(), title: exact(date), 'data-relative': '' }, relative(date));
  }

  function exact(date) {
    return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'long' });
  }

  function relative(date, now = Date.now()) {
    const seconds = Math.round((date.getTime() - now) / 1000);
    const size = Math.abs(seconds);
    if (size < 45) {
      return 'just now';
    }
    const [amount, unit] = size < 3_600 ? [Math.round(size / 60), 'min']
      : size < 86_400 ? [Math.round(size / 3_600), 'h']
      : size < 30 * 86_400 ? [Math.round(size / 86_400), size < 1.5 * 86_400 ? 'day' : 'days']
      : [null, null];
    if (amount === null) {
      return date.toLocaleDateString(undefined, { dateStyle: 'medium' });
    }
    return seconds > 0 ? `in ${amount} ${unit}` : `${amount} ${unit} ago`;
  }

  // A log line's clock time (a log is read in order, by the time of day), the exact time on hover.
  function clock(value) {
    const date = new Date(value);
    return h('time', { datetime: value, title: exact(date) }, date.toLocaleTimeString());
  }

  // Text from the API that embeds ISO-8601 moments ("Scheduled to start at 2026-12-07T02:35:03.748+00:00"): the
  // moments shown as time() shows them, the rest as text ("Scheduled to start in 10 min": "at" goes before a relative time).
  function withTimes(text) {
    const parts = [];
    const pattern = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
    let at = 0;
    for (const match of String(text).matchAll(pattern)) {
      const moment = time(match[0]);
      const before = text.slice(at, match.index);
      const inWords = moment instanceof Node && /^(in |just now|\d+ \w+ ago)/.test(moment.textContent);
      parts.push(inWords ? before.replace(/ at $/, ' ') : before, moment);
      at = match.index + match[0].length;
    }
    parts.push(text.slice(at));
    return parts.filter(p => p !== '');
  }

  function statusBadge(status) {
    return h('span', { class: `status status-${status}` }, status.replace('_', ' '));
  }

  function progressBar(value, label) {
    const bar = h('div', { class: 'bar' });
    const element = h('div', {
      class: 'progress', role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': value || 0,
      'aria-label': label || 'Progress',
    }, bar);
    setProgress(element, value);
    return element;
  }

  // The bar takes its status's colour: the failure colour for a failed or timed-out job, not the running blue.
  function setProgress(element, value, status) {
    if (status) {
      element.dataset.status = status;
    }
    const percent = Math.max(0, Math.min(100, value || 0));
    element.setAttribute('aria-valuenow', percent);
    element.setAttribute('aria-valuetext', `${percent}%`);
    element.firstChild.style.width = `${percent}%`; // CSSOM, which the policy allows; no style attribute is written
  }

  function json(value) {
    return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
  }

  function shortId(id) {
    return id.slice(0, 8);
  }

  function failure(error) {
    if (error instanceof ApiError && error.status === 401) {
      return 'Sign in to see jobs.';
    }
    return error instanceof ApiError ? `${error.message} (${error.status})` : String(error.message || error);
  }

  // ---- routing ---------------------------------------------------------------------------------------------------

  function route() {
    view.dispose();
    view = { dispose() {} };
    say('');
    const hash = location.hash.replace(/^#/, '') || '/';
    const [path, query] = hash.split('?');
    const params = new URLSearchParams(query || '');
    const job = /^\/jobs\/([0-9a-f]{32})$/.exec(path);
    if (job) {
      view = jobView(job[1]);
    } else if (path === '/new') {
      view = newJobView(params);
    } else if (path === '/types') {
      view = typesView();
    } else if (path === '/webhooks') {
      view = webhooksView();
    } else if (/^\/webhooks\/[0-9a-f]{32}$/.test(path)) {
      view = webhookView(path.slice('/webhooks/'.length));
    } else if (path === '/schedules') {
      view = schedulesView();
    } else if (path === '/search') {
      view = searchView(params);
    } else if (path === '/' && !query) {
      view = overviewView(params);
    } else {
      view = listView(params); // #/jobs; #/?… (links from before the overview) too
    }
    main.focus({ preventScroll: true });
  }

  // ---- the overview -------------------------------------------------------------------------------------------------

  // The dashboard's home: counts by status (GET /jobs/stats, refreshed while the page is open), and throughput, failure
  // rate and durations per type over the last hour, day or week from the roll-ups (GET /metrics: minutes for the hour,
  // hours for the day and week). Four requests per refresh however many jobs there are. Each chart has its data as a
  // table beside it (for screen readers, and what the chart was drawn from).
  const ranges = {
    hour: { label: 'Last hour', interval: 'minute', slots: 60, step: 60_000 },
    day: { label: 'Last day', interval: 'hour', slots: 24, step: 3_600_000 },
    week: { label: 'Last week', interval: 'hour', slots: 168, step: 3_600_000 },
  };

  function overviewView(params) {
    let disposed = false;
    let timer = null;
    let charts = [];
    let range = ranges[params.get('range')] ? params.get('range') : 'hour';
    let data = null;
    const counts = h('ul', { class: 'counts', 'aria-label': 'Jobs by status' });
    const scope = h('p', { class: 'summary' });
    const picker = h('div', { class: 'ranges', role: 'group', 'aria-label': 'Range' },
      Object.entries(ranges).map(([name, r]) => {
        const button = h('button', { type: 'button', class: 'secondary', 'data-range': name, 'aria-pressed': String(name === range) }, r.label);
        button.addEventListener('click', () => { range = name; draw(); });
        return button;
      }));
    const throughput = h('section', { class: 'chart', id: 'throughput' });
    const failureRate = h('section', { class: 'chart', id: 'failure-rate' });
    const durations = h('section', { class: 'durations', id: 'durations' });
    replace(main, h('h1', {}, 'Overview'), scope, counts, picker, h('div', { class: 'charts' }, throughput, failureRate), durations);

    async function load() {
      try {
        const now = Date.now();
        const fetchRange = r => api('GET', '/metrics', { params: [['interval', r.interval], ['from', new Date(now - (r.slots - 1) * r.step).toISOString()]] });
        const [stats, hour, day, week] = await Promise.all([api('GET', '/jobs/stats'), fetchRange(ranges.hour), fetchRange(ranges.day), fetchRange(ranges.week)]);
        if (disposed) return;
        data = { stats, hour, day, week };
        showCounts(stats);
        draw();
      } catch (error) {
        if (!disposed) say(failure(error), 'error');
      }
      if (!disposed) timer = setTimeout(load, 10_000);
    }

    function showCounts(stats) {
      scope.textContent = stats.scope === 'all' ? 'All jobs' : `Jobs of ${stats.owner}`;
      replace(counts, statuses.map(s => h('li', { 'data-status': s },
        h('a', { href: `#/jobs?${new URLSearchParams({ status: s })}` }, h('span', { class: 'count' }, String(stats.byStatus[s] ?? 0)), ' ', statusBadge(s)))));
    }

    // Every slot of the range, oldest first, with the sums of every type's point there (zeros where nothing happened).
    function slots(r, metrics) {
      const step = r.step;
      const end = Math.floor(Date.parse(metrics.to) / step) * step;
      const start = end - r.slots * step;
      const rows = new Map();
      for (let t = start; t < end; t += step) {
        rows.set(t, { at: t, created: 0, completed: 0, failed: 0, cancelled: 0, timedOut: 0 });
      }
      for (const series of metrics.series) {
        for (const p of series.points) {
          const row = rows.get(Date.parse(p.at));
          if (!row) continue;
          for (const k of ['created', 'completed', 'failed', 'cancelled', 'timedOut']) row[k] += p[k];
        }
      }
      return [...rows.values()];
    }

    function draw() {
      for (const b of picker.querySelectorAll('button')) b.setAttribute('aria-pressed', String(b.dataset.range === range));
      if (!data) return;
      for (const chart of charts) chart.destroy();
      charts = [];
      const r = ranges[range];
      const metrics = data[range];
      const rows = slots(r, metrics);
      const rate = row => {
        const bad = row.failed + row.timedOut;
        const ended = row.completed + bad;
        return ended === 0 ? null : Math.round((1000 * bad) / ended) / 10;
      };
      const label = row => (r.interval === 'minute' ? clock(new Date(row.at).toISOString()) : new Date(row.at).toISOString().slice(0, 13).replace('T', ' ') + ':00');
      chart(throughput, `Throughput — ${r.label.toLowerCase()}, per ${r.interval}`, rows, label,
        [['Created', 'created', '--accent'], ['Completed', 'completed', '--ok'], ['Failed', row => row.failed + row.timedOut, '--bad']]);
      // A rate of 0 % is a value (jobs ended, none failed); only a slot with no endings (null) has none.
      chart(failureRate, `Failure rate (%) — ${r.label.toLowerCase()}`, rows, label, [['Failed or timed out, of ended (%)', rate, '--bad']], null);
      showDurations(metrics, r);
    }

    // The data table lists the slots where some line has a value other than `empty` (0 for counts; null for rates).
    function chart(section, title, rows, label, lines, empty = 0) {
      const values = lines.map(([, pick]) => rows.map(row => (typeof pick === 'function' ? pick(row) : row[pick])));
      const table = h('table', { class: 'chart-data visually-hidden' },
        h('caption', {}, title),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Time'), lines.map(([name]) => h('th', { scope: 'col' }, name)))),
        h('tbody', {}, rows.filter((_, i) => values.some(v => v[i] !== null && v[i] !== empty)).map(row => {
          const i = rows.indexOf(row);
          return h('tr', { 'data-at': new Date(row.at).toISOString() }, h('th', { scope: 'row' }, label(row)), values.map(v => h('td', {}, v[i] === null ? '—' : String(v[i]))));
        })));
      const plot = h('div', { class: 'plot' });
      replace(section, h('h2', {}, title), plot, table);
      const css = getComputedStyle(document.documentElement);
      const width = Math.max(280, Math.min(section.clientWidth - 24, 640));
      charts.push(new uPlot({
        width,
        height: 200,
        scales: { x: { time: true } },
        axes: [{ stroke: css.getPropertyValue('--muted'), grid: { stroke: css.getPropertyValue('--line') } },
          { stroke: css.getPropertyValue('--muted'), grid: { stroke: css.getPropertyValue('--line') } }],
        series: [{}, ...lines.map(([name, , color]) => ({ label: name, stroke: css.getPropertyValue(color).trim(), width: 2, spanGaps: false, points: { show: true, size: 5 } }))],
      }, [rows.map(row => row.at / 1000), ...values], plot));
    }

    // Percentiles over the whole range, per type: the API merges the range's buckets (series totals).
    function showDurations(metrics, r) {
      const ms = value => (value === undefined || value === null ? '—' : value < 1000 ? `${Math.round(value)} ms` : value < 60_000 ? `${(value / 1000).toFixed(1)} s` : `${(value / 60_000).toFixed(1)} min`);
      replace(durations, h('h2', {}, `Durations by type — ${r.label.toLowerCase()}`),
        metrics.series.length === 0 ? h('p', { class: 'muted' }, 'No job ran in this range.') :
          h('div', { class: 'table-wrap' }, h('table', { class: 'jobs' },
            h('thead', {}, h('tr', {}, ['Type', 'Ended', 'Run p50', 'Run p95', 'Wait p50', 'Wait p95'].map(t => h('th', { scope: 'col' }, t)))),
            h('tbody', {}, metrics.series.map(({ type, totals: t }) => h('tr', { 'data-type': type }, h('th', { scope: 'row' }, type),
              h('td', {}, String(t.completed + t.failed + t.cancelled + t.timedOut)),
              h('td', {}, ms(t.duration.p50Ms)), h('td', {}, ms(t.duration.p95Ms)),
              h('td', {}, ms(t.queueWait.p50Ms)), h('td', {}, ms(t.queueWait.p95Ms))))))));
    }

    load();
    return {
      dispose() {
        disposed = true;
        clearTimeout(timer);
        for (const chart of charts) chart.destroy();
      },
    };
  }

  // ---- the list ----------------------------------------------------------------------------------------------------

  function listView(params) {
    let disposed = false;
    let timer = null;
    const cursors = [];
    const body = h('tbody');
    const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
    const form = filterForm(params);
    // Issue 26: rows are selected with their boxes (or all on the page), and the selection cancelled or rerun with one
    // POST /jobs/bulk naming the ids; the bulk job it starts is then shown.
    const selected = new Set();
    const selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all on this page', onChange: () => {
      for (const box of body.querySelectorAll('input.select-row')) {
        box.checked = selectAll.checked;
        if (box.checked) selected.add(box.value); else selected.delete(box.value);
      }
      showSelection();
    } });
    const chosenCount = h('span', { class: 'muted' });
    const bulkButton = (action, label) => h('button', { type: 'button', class: 'secondary', 'data-bulk': action, disabled: true, onClick: async () => {
      try {
        const bulk = await api('POST', '/jobs/bulk', { body: { action, ids: [...selected] } });
        location.hash = `#/jobs/${bulk.id}`;
      } catch (error) {
        say(failure(error), 'error');
      }
    } }, label);
    const bulkActions = h('div', { class: 'bulk-actions', role: 'group', 'aria-label': 'Selected jobs' },
      bulkButton('cancel', 'Cancel selected'), bulkButton('rerun', 'Rerun selected'), chosenCount);
    function showSelection() {
      for (const button of bulkActions.querySelectorAll('button')) button.disabled = selected.size === 0;
      chosenCount.textContent = selected.size === 0 ? '' : `${selected.size} selected`;
      const boxes = [...body.querySelectorAll('input.select-row')];
      selectAll.checked = boxes.length > 0 && boxes.every(b => b.checked);
    }
    const table = h('table', { class: 'jobs' },
      h('caption', { class: 'visually-hidden' }, 'Jobs'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, selectAll), ['Job', 'Type', 'Status', 'Step', 'Owner', 'Entity', 'Correlation id', 'Tags', 'Created', 'Updated', 'Took'].map(t => h('th', { scope: 'col' }, t)))),
      body);
    const fresh = h('div', { class: 'new-jobs', 'aria-live': 'polite' });
    let newest = null;
    let freshTimer = null;
    replace(main, h('h1', {}, 'Jobs'), searchForm(params), form, summary, fresh, bulkActions, h('div', { class: 'table-wrap' }, table), pager);

    async function load(cursor) {
      const query = [...params.entries()].filter(([name]) => name !== 'next');
      if (!params.has('limit')) {
        query.push(['limit', defaultLimit]);
      }
      if (cursor) {
        query.push(['next', cursor]);
      }
      let page;
      try {
        page = await api('GET', '/jobs', { params: query });
      } catch (error) {
        replace(body);
        replace(summary, h('span', { class: 'error' }, failure(error)));
        return;
      }
      if (disposed) {
        return;
      }
      const p = page.pagination;
      replace(summary, p.total === undefined || p.total === null
        ? `${p.count} job(s) on this page`
        : `${p.total} job(s) · page ${cursors.length + 1} of ${Math.max(1, p.totalPages)}`);
      // A page can be empty and still have a next (the server stops a scanning filter after a bounded number of reads).
      replace(body, page.jobs.length === 0 ? h('tr', {}, h('td', { colspan: 12, class: 'muted' },
        p.hasNext ? 'No matching jobs on this page; more may follow (Next).' : 'No jobs match.')) : page.jobs.map(row));
      replace(fresh);
      selected.clear();
      showSelection();
      newest = cursors.length === 0 ? page.jobs.reduce((top, j) => (top === null || j.createdAt > top ? j.createdAt : top), null) : null;
      watchNewJobs();
      replace(pager,
        h('button', { type: 'button', disabled: cursors.length === 0, onClick: () => { cursors.length = 0; load(null); } }, 'First'),
        h('button', { type: 'button', disabled: cursors.length === 0, onClick: () => { cursors.pop(); load(cursors[cursors.length - 1] || null); } }, 'Previous'),
        h('button', { type: 'button', disabled: !p.hasNext, onClick: () => { cursors.push(p.next); load(p.next); } }, 'Next'));
      watchLiveRows();
    }

    function row(job) {
      const bar = live.has(job.status) ? progressBar(0, `Progress of ${shortId(job.id)}`) : null;
      return h('tr', { 'data-job-id': job.id, 'data-status': job.status },
        h('td', { 'data-label': 'Select' }, h('input', { type: 'checkbox', class: 'select-row', value: job.id, 'aria-label': `Select ${shortId(job.id)}`, onChange: event => {
          if (event.target.checked) selected.add(job.id); else selected.delete(job.id);
          showSelection();
        } })),
        h('td', { 'data-label': 'Job' }, h('a', { href: `#/jobs/${job.id}`, class: 'mono' }, shortId(job.id))),
        h('td', { 'data-label': 'Type' }, job.type),
        h('td', { 'data-label': 'Status', class: 'status-cell' }, statusBadge(job.status), queuePlace(job), bar),
        h('td', { 'data-label': 'Step', class: 'step-cell' }, '—'),
        h('td', { 'data-label': 'Owner' }, job.owner),
        h('td', { 'data-label': 'Entity' }, job.entity ? `${job.entity.type}/${job.entity.id}` : '—'),
        h('td', { 'data-label': 'Correlation id' }, job.correlationId || '—'),
        h('td', { 'data-label': 'Tags' }, tagChips(job.tags)),
        h('td', { 'data-label': 'Created' }, time(job.createdAt)),
        h('td', { 'data-label': 'Updated' }, time(job.updatedAt)),
        h('td', { 'data-label': 'Took', title: 'From creation to its ending' }, live.has(job.status) || job.status === 'draft' ? '—' : took(job.createdAt, job.updatedAt)));
    }

    // Issue 26: a queued row's place in line, from the list row (and then from its polled /status).
    function queuePlace(job) {
      return job.status === 'queued' && job.queuePosition ? h('span', { class: 'muted queue-position' }, ` #${job.queuePosition} in line`) : null;
    }

    // Issue 28: on the first page, the same listing is asked again every 10 s (one request, the page's own filters and
    // size); jobs created since the newest one shown are announced as "N new jobs", which loads the page again.
    function watchNewJobs() {
      clearTimeout(freshTimer);
      if (disposed || cursors.length > 0 || (params.get('orderBy') || 'createdAt') !== 'createdAt' || params.get('order') === 'asc') {
        return;
      }
      freshTimer = setTimeout(async () => {
        try {
          const query = [...params.entries()].filter(([name]) => name !== 'next');
          if (!params.has('limit')) query.push(['limit', defaultLimit]);
          const page = await api('GET', '/jobs', { params: query });
          if (disposed || cursors.length > 0) return;
          const shown = new Set([...body.querySelectorAll('tr[data-job-id]')].map(r => r.dataset.jobId));
          const added = page.jobs.filter(j => !shown.has(j.id) && (newest === null || j.createdAt >= newest)).length;
          replace(fresh, added === 0 ? null : h('button', { type: 'button', class: 'secondary', onClick: () => load(null) },
            `${added}${added === page.jobs.length && page.pagination.hasNext ? '+' : ''} new job${added === 1 ? '' : 's'} — show`));
        } catch {
          // the next round tries again
        }
        watchNewJobs();
      }, newJobsPollMs);
    }

    // Running rows' bars move: their /status (one cheap read each) is polled while they are on screen and live.
    function watchLiveRows() {
      clearTimeout(timer);
      const rows = [...body.querySelectorAll('tr[data-job-id]')].filter(r => live.has(r.dataset.status));
      if (rows.length === 0 || disposed) {
        return;
      }
      timer = setTimeout(async () => {
        await Promise.all(rows.map(async r => {
          try {
            const status = await api('GET', `/jobs/${r.dataset.jobId}/status`);
            if (disposed) {
              return;
            }
            r.dataset.status = status.status;
            const cell = r.querySelector('.status-cell');
            const bar = cell.querySelector('[role=progressbar]');
            replace(cell, statusBadge(status.status), queuePlace(status), live.has(status.status) ? bar : null);
            const step = r.querySelector('.step-cell');
            if (step) step.textContent = status.step ? `${status.step}${status.stepCount ? ` (${(status.stepIndex ?? 0) + 1}/${status.stepCount})` : ''}` : '—';
            if (bar) {
              setProgress(bar, status.progress, status.status);
            }
          } catch {
            // the next round tries again
          }
        }));
        watchLiveRows();
      }, 1000);
    }

    load(null);
    return { dispose() { disposed = true; clearTimeout(timer); clearTimeout(freshTimer); } };
  }

  // ---- search (issue 28) ---------------------------------------------------------------------------------------------

  // One box: a whole job id opens the job; anything else is searched (#/search?q=) as an id prefix, a correlation id
  // and a tag at once — each through the API's own filter (idPrefix, correlationId, tag) — and the matches listed
  // together, each saying what it matched. A value the API refuses for every reading shows the API's problem.
  function searchForm(params) {
    const box = h('input', { type: 'search', name: 'q', id: 'search', value: params.get('q') || params.get('correlationId') || params.get('tag') || '', autocomplete: 'off',
      placeholder: 'Job id, id prefix, correlation id or tag', 'aria-label': 'Find jobs by id, id prefix, correlation id or tag' });
    const form = h('form', { class: 'search', role: 'search', onSubmit: event => {
      event.preventDefault();
      const q = box.value.trim();
      if (/^[0-9a-f]{32}$/i.test(q)) {
        location.hash = `#/jobs/${q.toLowerCase()}`;
      } else {
        location.hash = q ? `#/search?${new URLSearchParams({ q })}` : '#/jobs';
      }
    } }, box, h('button', { type: 'submit' }, 'Find'));
    return form;
  }

  // How often the list's first page looks for new jobs; a test may shorten it (?newJobsPollMs= on the page's URL).
  const newJobsPollMs = Number(new URLSearchParams(location.search).get('newJobsPollMs')) || 10_000;

  // A duration as people read it: 850 ms, 4.2 s, 3.5 min, 2.1 h.
  function took(from, to) {
    const ms = Date.parse(to) - Date.parse(from);
    if (!(ms >= 0)) return '—';
    return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : ms < 3_600_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 3_600_000).toFixed(1)} h`;
  }

  const tagShape = /^[A-Za-z0-9_./-]+(:[A-Za-z0-9_./:@+=-]+)?$/;

  function searchView(params) {
    let disposed = false;
    const q = (params.get('q') || '').trim();
    const summary = h('p', { class: 'summary', 'aria-live': 'polite' }, 'Searching…');
    const body = h('tbody');
    const table = h('table', { class: 'jobs' }, h('caption', { class: 'visually-hidden' }, 'Search results'),
      h('thead', {}, h('tr', {}, ['Job', 'Matched', 'Type', 'Status', 'Correlation id', 'Tags', 'Created'].map(t => h('th', { scope: 'col' }, t)))), body);
    replace(main, h('h1', {}, 'Search'), searchForm(params), summary, h('div', { class: 'table-wrap' }, table));
    const readings = [];
    if (/^[0-9a-f]{1,31}$/i.test(q)) readings.push(['id prefix', [['idPrefix', q.toLowerCase()]]]);
    readings.push(['correlation id', [['correlationId', q], ['limit', '50']]]);
    if (tagShape.test(q) && q.length <= 64) readings.push(['tag', [['tag', q], ['limit', '50']]]);
    (async () => {
      const results = await Promise.allSettled(readings.map(([, query]) => api('GET', '/jobs', { params: query })));
      if (disposed) return;
      const found = new Map();
      results.forEach((result, i) => {
        if (result.status !== 'fulfilled') return;
        for (const job of result.value.jobs) {
          const seen = found.get(job.id) || { job, matched: [] };
          seen.matched.push(readings[i][0]);
          found.set(job.id, seen);
        }
      });
      const refused = results.find(r => r.status === 'rejected');
      if (found.size === 0 && refused && results.every(r => r.status === 'rejected')) {
        replace(summary, h('span', { class: 'error' }, failure(refused.reason)));
        return;
      }
      replace(summary, `${found.size} job(s) match “${q}”`);
      replace(body, found.size === 0 ? h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No jobs match.'))
        : [...found.values()].map(({ job, matched }) => h('tr', { 'data-job-id': job.id, 'data-status': job.status },
          h('td', { 'data-label': 'Job' }, h('a', { href: `#/jobs/${job.id}`, class: 'mono' }, shortId(job.id))),
          h('td', { 'data-label': 'Matched' }, matched.join(', ')),
          h('td', { 'data-label': 'Type' }, job.type),
          h('td', { 'data-label': 'Status' }, statusBadge(job.status)),
          h('td', { 'data-label': 'Correlation id' }, job.correlationId || '—'),
          h('td', { 'data-label': 'Tags' }, tagChips(job.tags)),
          h('td', { 'data-label': 'Created' }, time(job.createdAt)))));
    })();
    return { dispose() { disposed = true; } };
  }

  // A job's tags as chips; each lists the jobs with that tag.
  function tagChips(tags) {
    if (!tags || tags.length === 0) return '—';
    return h('span', { class: 'chips' }, tags.map(tag => h('a', { class: 'chip', 'data-tag': tag, href: `#/jobs?${new URLSearchParams({ tag })}`, title: `Jobs tagged ${tag}` }, tag)));
  }

  function filterForm(params) {
    const chosen = new Set((params.get('status') || '').split(',').filter(Boolean));
    const typeSelect = h('select', { id: 'f-type', name: 'type' }, h('option', { value: '' }, 'Any type'));
    types().then(list => {
      for (const t of list) {
        typeSelect.append(h('option', { value: t.type, selected: params.get('type') === t.type }, t.type));
      }
    }).catch(() => {});
    const field = (label, control) => h('label', { class: 'field' }, h('span', {}, label), control);
    const input = (name, label) => field(label, h('input', { name, value: params.get(name) || '', autocomplete: 'off' }));
    const select = (name, label, options, fallback = options[0][0]) => field(label, h('select', { name },
      options.map(([value, text]) => h('option', { value, selected: (params.get(name) || fallback) === value }, text))));
    const localTime = (name, label) => {
      const at = params.get(name) ? new Date(params.get(name)) : null;
      const local = at && !Number.isNaN(at.getTime()) ? new Date(at.getTime() - at.getTimezoneOffset() * 60_000).toISOString().slice(0, 16) : '';
      return field(label, h('input', { type: 'datetime-local', name, value: local }));
    };
    const form = h('form', { class: 'filters', 'aria-label': 'Filters', onSubmit: event => {
      event.preventDefault();
      const data = new FormData(form);
      const query = new URLSearchParams();
      const picked = data.getAll('status');
      if (picked.length > 0) {
        query.set('status', picked.join(','));
      }
      for (const name of ['type', 'correlationId', 'tag', 'entityType', 'entityId', 'owner', 'orderBy', 'order', 'limit']) {
        const value = (data.get(name) || '').toString().trim();
        if (value) {
          query.set(name, value);
        }
      }
      // The created-date range (issue 28): the browser's local time, sent as an instant.
      for (const name of ['createdFrom', 'createdTo']) {
        const value = (data.get(name) || '').toString();
        if (value && !Number.isNaN(Date.parse(value))) {
          query.set(name, new Date(value).toISOString());
        }
      }
      location.hash = `#/jobs?${query}`;
    } },
    h('fieldset', { class: 'statuses' }, h('legend', {}, 'Status'),
      statuses.map(s => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'status', value: s, checked: chosen.has(s) }), s.replace('_', ' ')))),
    field('Type', typeSelect),
    input('correlationId', 'Correlation id'),
    input('tag', 'Tag'),
    localTime('createdFrom', 'Created from'),
    localTime('createdTo', 'Created to'),
    input('entityType', 'Entity type'),
    input('entityId', 'Entity id'),
    input('owner', 'Owner (admins)'),
    select('orderBy', 'Order by', [['createdAt', 'Created'], ['updatedAt', 'Updated'], ['type', 'Type'], ['status', 'Status']]),
    select('order', 'Order', [['desc', 'Newest first'], ['asc', 'Oldest first']]),
    select('limit', 'Per page', [['20', '20'], ['50', '50'], ['100', '100']], defaultLimit),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Apply'), h('a', { href: '#/jobs', class: 'button secondary' }, 'Clear')));
    return form;
  }

  // ---- one job -----------------------------------------------------------------------------------------------------

  function jobView(id) {
    let source = null;
    let disposed = false;
    let job = null;
    let steps = [];
    let resumable = false;
    const statusText = h('span', { class: 'status-slot', 'aria-live': 'polite' });
    const bar = progressBar(0, 'Job progress');
    const message = h('p', { class: 'message' });
    const stepList = h('ol', { class: 'steps', 'aria-label': 'Steps' });
    const follow = followSwitch();
    const logs = follow.list;
    const actions = h('div', { class: 'actions' });
    const failureBox = h('div', { class: 'failure' });
    const decisionBox = h('div', { class: 'decision-slot' });
    const facts = h('dl', { class: 'facts' });
    const details = h('div', { class: 'details' });
    const artifactBox = h('div', { class: 'artifacts' });
    const auditList = h('ol', { class: 'audit', 'aria-label': 'Audit' });
    const title = h('h1', {}, 'Job ', h('span', { class: 'mono' }, shortId(id)));
    const article = h('article', { class: 'job', 'data-job-id': id },
      title, h('div', { class: 'headline' }, statusText, bar), message, decisionBox, actions, failureBox,
      h('section', {}, h('h2', {}, 'Steps'), stepList),
      h('section', {}, h('h2', {}, 'Details'), facts),
      details,
      artifactBox,
      h('section', {}, h('div', { class: 'log-head' }, h('h2', {}, 'Log'), follow.button), logs),
      h('section', {}, h('h2', {}, 'Audit'), auditList));
    replace(main, h('p', { class: 'muted' }, 'Loading…'));

    // The record (GET /api/jobs/{id}): read at the start, and again whenever the event stream says the status or the
    // step changed and when the job ends, for what the status events do not carry (started, completed, attempts,
    // result). Status events may be newer than a record read in flight: the newer status wins.
    async function refresh(quiet) {
      let record;
      try {
        record = await api('GET', `/jobs/${id}`);
      } catch (error) {
        if (!disposed && !quiet) {
          replace(main, h('h1', {}, 'Job not found'), h('p', { class: 'error' }, error instanceof ApiError && error.status === 404
            ? 'There is no job with this id that you may see.' : failure(error)), h('p', {}, h('a', { href: '#/jobs' }, 'Back to the list')));
        }
        return false;
      }
      if (disposed) {
        return false;
      }
      job = job && Date.parse(job.updatedAt) > Date.parse(record.updatedAt) ? { ...record, ...statusOf(job) } : record;
      const type = (await types().catch(() => [])).find(t => t.type === job.type);
      if (disposed) {
        return false;
      }
      steps = type ? type.steps : [];
      resumable = type ? type.resumable !== false : false;
      replace(title, job.type, ' ', h('span', { class: 'mono' }, shortId(id)));
      showStatus(job);
      showDetails(job);
      showArtifacts();
      // On the page once filled: never a view whose header and Details are still empty.
      if (!article.isConnected) {
        replace(main, article);
      }
      showAudit();
      return true;
    }

    // The job's files, and its result when too large to show inline (GET /api/jobs/{id}/artifacts): a download link
    // each, read with the record; no section when there are none.
    async function showArtifacts() {
      let list;
      try {
        list = (await api('GET', `/jobs/${id}/artifacts`)).artifacts;
      } catch {
        return;
      }
      if (disposed) {
        return;
      }
      replace(artifactBox, list.length === 0 ? null : h('section', {}, h('h2', {}, 'Artifacts'),
        h('ul', { class: 'artifact-list', 'aria-label': 'Artifacts' }, list.map(a => h('li', {},
          h('a', { href: apiUrl(`/jobs/${id}/artifacts/${encodeURIComponent(a.name)}`), download: a.name }, a.name),
          h('span', { class: 'muted' }, ` ${a.bytes.toLocaleString()} bytes, ${a.contentType}`))))));
    }

    // Who did what to the job (GET /api/jobs/{id}/audit): read with the record, so an action shows once the page refreshes.
    async function showAudit() {
      let page;
      try {
        page = await api('GET', `/jobs/${id}/audit`, { params: [['limit', '100']] });
      } catch (error) {
        if (!disposed) {
          replace(auditList, h('li', { class: 'error' }, failure(error)));
        }
        return;
      }
      if (disposed) {
        return;
      }
      replace(auditList, page.entries.length === 0 ? h('li', { class: 'muted' }, 'Nothing recorded.') : page.entries.map(auditEntry),
        page.hasMore ? h('li', { class: 'muted' }, 'More entries: see GET /api/jobs/{id}/audit.') : null);
    }

    function auditEntry(entry) {
      const actor = entry.actor;
      const who = actor.kind === 'system' ? `${actor.id} (system)`
        : [actor.name && actor.name !== actor.id ? `${actor.name} (${actor.id})` : actor.id,
          actor.identityProvider ? `via ${actor.identityProvider}` : null,
          actor.clientAddress ? `from ${actor.clientAddress}` : null].filter(Boolean).join(' ');
      const details = Object.entries(entry.details || {}).map(([name, value]) => `${name}: ${value}`).join(', ');
      return h('li', { class: 'audit-entry', 'data-action': entry.action },
        clock(entry.at), h('span', { class: 'action' }, entry.action.replaceAll('_', ' ')), h('span', { class: 'who' }, who),
        h('span', { class: 'text' }, details));
    }

    let refreshing = null;
    let refreshAgain = false;
    function refreshSoon() {
      if (refreshing) {
        refreshAgain = true;
        return;
      }
      refreshing = refresh(true).finally(() => {
        refreshing = null;
        if (refreshAgain && !disposed) {
          refreshAgain = false;
          refreshSoon();
        }
      });
    }

    // What a status event carries (JobEventStatus): everything the page shows but the input, result and audit.
    function statusOf(j) {
      const { status, progress, step, stepIndex, stepCount, message: text, error, cancelRequested, updatedAt, startedAt, completedAt, attempt, totalAttempts, steps: runs } = j;
      return { status, progress, step, stepIndex, stepCount, message: text, error, cancelRequested, updatedAt, startedAt, completedAt, attempt, totalAttempts, steps: runs };
    }

    // Every field the events carry is shown from the event itself; the record is read again only when the status
    // changes (for the audit, and a queued job's place in line) and at the end (for the result).
    function onStatusEvent(status) {
      const changed = !job || status.status !== job.status;
      showStatus(status);
      if (changed) {
        refreshSoon();
      }
    }

    function showStatus(status) {
      job = { ...job, ...status };
      replace(statusText, statusBadge(job.status), job.cancelRequested && live.has(job.status) ? h('span', { class: 'muted' }, ' cancel requested') : null,
        job.status === 'queued' && job.queuePosition ? h('span', { class: 'muted queue-position' }, ` #${job.queuePosition} in line`) : null);
      setProgress(bar, job.progress, job.status);
      replace(message, withTimes(job.message || ''));
      showFacts(job);
      showFailure(job);
      showTimeline(stepList, job, steps);
      showActions();
      showDecision(job, decisionBox, id, refreshSoon);
    }

    function showActions() {
      const kinds = [];
      if ((live.has(job.status) || job.status === 'draft') && !job.cancelRequested) {
        kinds.push('cancel');
      }
      if (job.status === 'draft') {
        kinds.push('submit');
      }
      // An ended job is rerun (a new job linked to it); a failed one of a resumable type can also resume at its failed step.
      if (job.type && !live.has(job.status) && job.status !== 'draft') {
        kinds.push('again');
        if (job.status === 'failed' && job.error && job.error.step && resumable) {
          kinds.push('resume');
        }
      }
      // Rebuilt only when the choice changes: every status event calls this, and a rebuilt button would take the
      // keyboard focus away from someone about to press it.
      const signature = kinds.join(' ');
      if (actions.dataset.kinds === signature) {
        return;
      }
      actions.dataset.kinds = signature;
      const buttons = {
        cancel: () => h('button', { type: 'button', class: 'danger', onClick: () => act('cancel') }, 'Cancel'),
        submit: () => h('button', { type: 'button', onClick: () => act('submit') }, 'Submit'),
        again: () => h('button', { type: 'button', class: 'secondary', onClick: () => act('again') }, 'Run again'),
        resume: () => h('button', { type: 'button', class: 'secondary', onClick: () => act('resume') }, `Resume from ${job.error.step}`),
      };
      replace(actions, kinds.map(kind => buttons[kind]()));
    }

    async function act(what) {
      try {
        if (what === 'again' || what === 'resume') {
          const rerun = await api('POST', `/jobs/${id}/rerun`, { body: what === 'resume' ? { from: 'failed-step' } : {} });
          location.hash = `#/jobs/${rerun.id}`;
          return;
        }
        await api('POST', `/jobs/${id}/${what}`);
        say(what === 'cancel' ? 'Cancellation requested.' : 'Submitted.', 'ok');
        if (!source) {
          watch();
        }
      } catch (error) {
        say(failure(error), 'error');
      }
    }

    function showFacts(j) {
      const rows = [
        ['Id', h('span', { class: 'mono' }, j.id)], ['Type', j.type], ['Owner', j.owner], ['Status', j.status.replace('_', ' ')],
        ['Progress', `${j.progress ?? 0}%`], ['Step', j.step || '—'],
        ['Correlation id', j.correlationId || '—'], ['Entity', j.entity ? `${j.entity.type}/${j.entity.id}` : '—'],
        ['Tags', tagChips(j.tags)],
        ['Created', time(j.createdAt)], ['Not before', time(j.notBefore)], ['Started', time(j.startedAt)],
        ['Updated', time(j.updatedAt)], ['Completed', time(j.completedAt)], ['Deadline', time(j.deadline)],
        ['Step attempts', String(j.totalAttempts ?? 0)],
      ];
      if (j.rerunOf) {
        rows.push(['Rerun of', h('a', { href: `#/jobs/${j.rerunOf}`, class: 'mono' }, shortId(j.rerunOf))]);
      }
      if (j.resumedAt) {
        rows.push(['Resumed at', `${j.resumedAt.step} (the steps before it ran in the original)`]);
      }
      if (j.rerunBy) {
        rows.push(['Latest rerun', h('a', { href: `#/jobs/${j.rerunBy}`, class: 'mono' }, shortId(j.rerunBy))]);
      }
      replace(facts, rows.map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
    }

    function showDetails(j) {
      const parts = [h('section', {}, h('h2', {}, 'Input'), j.input === undefined ? h('p', { class: 'muted' }, 'None') : json(j.input))];
      if (j.result !== undefined) {
        parts.push(h('section', {}, h('h2', {}, 'Result'), json(j.result)));
      }
      if (j.metadata && Object.keys(j.metadata).length > 0) {
        parts.push(h('section', {}, h('h2', {}, 'Metadata'),
          h('dl', { class: 'facts' }, Object.entries(j.metadata).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))));
      }
      replace(details, parts);
    }

    // A failed job's error and stack come first, under the headline, above the steps and the (maybe long) input.
    // Rebuilt only when the error changes, so an opened or closed stack stays as the reader left it.
    function showFailure(j) {
      const signature = j.error ? JSON.stringify(j.error) : '';
      if (failureBox.dataset.error === signature) {
        return;
      }
      failureBox.dataset.error = signature;
      replace(failureBox, j.error ? h('section', { class: 'error-box' }, h('h2', {}, 'Error'),
        h('p', {}, j.error.message),
        j.error.type ? h('p', { class: 'muted' }, `${j.error.type}${j.error.step ? ` in ${j.error.step}` : ''}`) : null,
        j.error.stackTrace ? h('details', { open: true }, h('summary', {}, 'Stack trace'), h('pre', { class: 'stack' }, j.error.stackTrace)) : null) : null);
    }

    function addLine(line) {
      logs.append(h('li', { class: `log level-${line.level}`, 'data-cursor': line.cursor },
        clock(line.timestamp), h('span', { class: 'level' }, line.level), h('span', { class: 'text' }, line.message)));
      follow.added();
    }

    // Live: the job's event stream. EventSource reconnects by itself, resuming after the last event id.
    function watch() {
      source = new EventSource(apiUrl(`/jobs/${id}/events`));
      source.addEventListener('status', event => onStatusEvent(JSON.parse(event.data)));
      source.addEventListener('log', event => addLine(JSON.parse(event.data)));
      source.addEventListener('end', event => {
        source.close();
        source = null;
        showStatus(JSON.parse(event.data));
        refreshSoon(); // the result, error and timestamps of the ended job
      });
    }

    refresh().then(found => {
      if (found && !disposed) {
        watch();
      }
    });
    // A queued job's place in line moves as the jobs ahead of it start, which its own stream does not tell: re-read it.
    const linePoll = setInterval(() => {
      if (job && job.status === 'queued' && !disposed) {
        refreshSoon();
      }
    }, 5_000);
    // A running step's duration grows while the page watches.
    const ticker = setInterval(() => tickDurations(stepList), 1_000);
    return { dispose() { disposed = true; clearInterval(linePoll); clearInterval(ticker); if (source) { source.close(); } } };
  }

  // ---- the job view's step timeline and its log's follow switch ----------------------------------------------------

  // One row per step of the job (its own count; the type's names where they match it): how it stands, when it started
  // and ended, how long it took (growing while it runs) and its attempts, from the record's timeline (job.steps). A
  // parallel step's items are a grid of cells, one per item, in their state.
  const itemStates = { p: 'waiting', r: 'running', d: 'done', f: 'failed' };

  function showTimeline(list, job, typeSteps) {
    const runs = new Map((job.steps || []).map(run => [run.index, run]));
    const count = Math.max(job.stepCount || typeSteps.length, ...[...runs.keys()].map(i => i + 1));
    replace(list, Array.from({ length: count }, (_, i) => {
      const run = runs.get(i);
      const name = (run && run.name) || (typeSteps.length === count ? typeSteps[i] : null) || `Step ${i + 1}`;
      const state = stepState(job, run, i);
      const ended = run && run.endedAt ? Date.parse(run.endedAt) - Date.parse(run.startedAt) : null;
      const took = h('span', {
        class: 'step-duration', 'data-duration-ms': ended ?? undefined,
        'data-running-since': run && !run.endedAt && state === 'running' ? run.startedAt : undefined,
      }, ended !== null ? duration(ended) : run && state === 'running' ? duration(Date.now() - Date.parse(run.startedAt)) : '');
      return h('li', { class: `step step-${state}`, 'data-state': state, 'data-index': i },
        h('div', { class: 'step-line' },
          h('span', { class: 'step-name' }, name),
          h('span', { class: 'step-times' },
            run ? [h('span', { class: 'step-start' }, 'started ', time(run.startedAt)),
              run.endedAt ? h('span', { class: 'step-end' }, ' · ended ', time(run.endedAt)) : null,
              ' · ', took,
              h('span', { class: 'step-attempts', 'data-attempts': run.attempts }, ` · ${run.attempts} ${run.attempts === 1 ? 'attempt' : 'attempts'}`)] : null),
          h('span', { class: 'step-state' }, state)),
        run && run.items ? itemGrid(run.items, run.status !== 'running') : null);
    }));
  }

  function stepState(job, run, i) {
    if (i === job.stepIndex && job.status === 'waiting') {
      return 'waiting'; // the step asks a person (its decision panel shows the question)
    }
    if (run) {
      return run.status === 'completed' ? 'done' : run.status === 'running' ? (live.has(job.status) ? 'running' : 'stopped') : 'stopped';
    }
    return job.status === 'completed' || i < job.stepIndex ? 'done'
      : i === job.stepIndex && job.status === 'running' ? 'running'
      : i === job.stepIndex && !live.has(job.status) && job.status !== 'draft' && job.status !== 'completed' ? 'stopped'
      : 'pending';
  }

  // Once the step ended, an item still waiting or running as last recorded did not finish (a fail-fast step ends the job
  // before its next progress write): shown as "not finished", never as running.
  function itemGrid(items, ended) {
    const summary = `${items.done} of ${items.total} items done${items.failed ? `, ${items.failed} failed` : ''}`;
    if (!items.states) {
      return h('p', { class: 'items-summary muted' }, summary);
    }
    return h('div', { class: 'items' },
      h('p', { class: 'items-summary muted' }, summary),
      h('ol', { class: 'item-grid', 'aria-label': 'Items' }, [...items.states].map((letter, n) => {
        const recorded = itemStates[letter] || 'waiting';
        const state = ended && (recorded === 'waiting' || recorded === 'running') ? 'not finished' : recorded;
        return h('li', { class: `item item-${state.replace(' ', '-')}`, 'data-state': state, title: `Item ${n + 1}: ${state}` },
          h('span', { class: 'visually-hidden' }, `Item ${n + 1}: ${state}`));
      })));
  }

  // "850 ms", "12.4 s", "3 min 5 s", "2 h 10 min".
  function duration(ms) {
    if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
    if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
    if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ${Math.floor(ms / 1_000) % 60} s`;
    return `${Math.floor(ms / 3_600_000)} h ${Math.floor(ms / 60_000) % 60} min`;
  }

  function tickDurations(list) {
    for (const element of list.querySelectorAll('[data-running-since]')) {
      element.textContent = duration(Date.now() - Date.parse(element.getAttribute('data-running-since')));
    }
  }

  // The log keeps its newest line in view while following; "Pause" stops that (so a line can be read while lines
  // arrive), "Follow" takes it up again at the newest line. Scrolling up by hand pauses too.
  function followSwitch() {
    let following = true;
    const list = h('ol', { class: 'logs', 'aria-label': 'Log', 'aria-live': 'off', 'data-following': 'true' });
    const button = h('button', { type: 'button', class: 'secondary follow', 'aria-pressed': 'true' }, 'Pause following');
    function set(on) {
      following = on;
      list.dataset.following = String(on);
      button.setAttribute('aria-pressed', String(on));
      button.textContent = on ? 'Pause following' : 'Follow new lines';
      if (on) {
        list.scrollTop = list.scrollHeight;
      }
    }
    button.addEventListener('click', () => set(!following));
    // The page's own scrolls land at the bottom, so only a reader's scroll away from it pauses.
    list.addEventListener('scroll', () => {
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 4;
      if (following && !atBottom) {
        set(false);
      }
    });
    return {
      list, button,
      added() {
        if (following && list.scrollHeight > list.clientHeight && list.scrollTop + list.clientHeight < list.scrollHeight) {
          list.scrollTop = list.scrollHeight;
        }
      },
    };
  }

  // ---- a decision the job waits for (issue 31): the question, Approve and Reject, a comment ------------------------

  // Rebuilt only when the decision or the status changes, so a comment being typed survives the status events.
  function showDecision(job, box, id, refreshSoon) {
    const d = job.decision;
    const signature = d ? `${job.status} ${d.name} ${d.askedAt} ${d.answer || ''}` : '';
    if (box.dataset.decision === signature) {
      return;
    }
    box.dataset.decision = signature;
    if (!d) {
      replace(box);
      return;
    }
    if (d.answer) {
      const by = d.timedOut ? 'its timeout' : (d.decidedByName || d.decidedBy);
      replace(box, h('p', { class: 'decision-answer muted', 'data-answer': d.answer },
        `Decision ${d.name} (${d.question}): ${d.answer === 'expired' ? 'not answered in time' : `${d.answer === 'approve' ? 'approved' : 'rejected'} by ${by}`}`,
        d.comment ? ` — “${d.comment}”` : '', d.decidedAt ? ' ' : '', d.decidedAt ? time(d.decidedAt) : null));
      return;
    }
    if (job.status !== 'waiting') {
      replace(box);
      return;
    }
    const comment = h('textarea', { name: 'comment', rows: '2', maxlength: '1000', 'aria-label': 'Comment', placeholder: 'Comment (optional)' });
    const answer = async (decision, button) => {
      for (const b of box.querySelectorAll('button')) {
        b.disabled = true;
      }
      try {
        await api('POST', `/jobs/${id}/decisions/${encodeURIComponent(d.name)}`, { body: { decision, comment: comment.value.trim() || null } });
        say(decision === 'approve' ? 'Approved.' : 'Rejected.', 'ok');
        refreshSoon();
      } catch (error) {
        say(failure(error), 'error');
        for (const b of box.querySelectorAll('button')) {
          b.disabled = false;
        }
        button.focus();
      }
    };
    const who = d.role ? `the owner, admins, or role ${d.role}` : 'the owner or admins';
    const onTimeout = { fail: 'the job fails', cancel: 'the job is cancelled', approve: 'approved', reject: 'rejected' }[d.onTimeout] || d.onTimeout;
    const approve = h('button', { type: 'button', class: 'approve', onClick: () => answer('approve', approve) }, 'Approve');
    const reject = h('button', { type: 'button', class: 'danger reject', onClick: () => answer('reject', reject) }, 'Reject');
    replace(box, h('section', { class: 'decision', 'data-decision': d.name, 'aria-label': 'Decision needed' },
      h('h2', {}, 'Decision needed'),
      h('p', { class: 'question' }, d.question),
      h('p', { class: 'muted' }, `Decision ${d.name} before step ${d.step}; answered by ${who}. With no answer by `, time(d.timeoutAt), `: ${onTimeout}.`),
      comment, h('div', { class: 'buttons' }, approve, reject)));
  }

  // ---- job types: limits and the pause switch (admins) -------------------------------------------------------------

  function typesView() {
    let disposed = false;
    const table = h('table', { class: 'types' });
    replace(main, h('h1', {}, 'Job types'), h('p', { class: 'muted' }, 'A paused type takes jobs, which wait queued, and starts none; its running jobs finish. Pausing and resuming are for admins.'), table);
    async function load() {
      let list;
      try {
        list = (await api('GET', '/job-types')).jobTypes;
      } catch (error) {
        if (!disposed) {
          say(failure(error), 'error');
        }
        return;
      }
      jobTypes = list;
      if (disposed) {
        return;
      }
      replace(table,
        h('thead', {}, h('tr', {}, h('th', {}, 'Type'), h('th', {}, 'Limits'), h('th', {}, 'Default priority'), h('th', {}, 'Paused'))),
        h('tbody', {}, list.map(t => h('tr', { 'data-type': t.type },
          h('td', { 'data-label': 'Type' }, h('span', { class: 'mono' }, t.type), h('div', { class: 'muted' }, t.description)),
          h('td', { 'data-label': 'Limits' }, limits(t)),
          h('td', { 'data-label': 'Default priority' }, String(t.defaultPriority)),
          h('td', { 'data-label': 'Paused' }, h('label', { class: 'check' },
            h('input', { type: 'checkbox', role: 'switch', name: 'paused', checked: t.paused, 'aria-label': `Pause ${t.type}`, onChange: event => toggle(t.type, event.target) }),
            t.paused ? 'paused' : 'running'))))));
    }
    function limits(t) {
      const parts = [];
      if (t.maxRunning) parts.push(`${t.maxRunning} at once`);
      if (t.maxPerKey) parts.push(`${t.maxPerKey} per concurrency key`);
      return parts.length ? parts.join(', ') : 'none';
    }
    async function toggle(type, box) {
      box.disabled = true;
      try {
        await api('POST', `/job-types/${encodeURIComponent(type)}/${box.checked ? 'pause' : 'resume'}`);
        say(`${type} ${box.checked ? 'paused' : 'resumed'}.`);
      } catch (error) {
        box.checked = !box.checked;
        say(failure(error), 'error');
      }
      box.disabled = false;
      await load();
    }
    load();
    return { dispose() { disposed = true; } };
  }

  // ---- webhooks (#/webhooks, #/webhooks/{id}) -------------------------------------------------------------------------

  // The caller's subscriptions: the list, a form to add one (the secret is shown once, in the answer to the creation),
  // delete; a subscription's delivery log (newest first, 50 a page) with a manual retry per delivery.
  const webhookEvents = ['job.started', 'job.completed', 'job.failed', 'job.cancelled', 'job.timed_out', 'job.progress'];

  function webhooksView() {
    let disposed = false;
    const table = h('table', { class: 'webhooks' });
    const secret = h('div', { id: 'wh-secret' });
    const url = h('input', { id: 'wh-url', name: 'url', type: 'url', required: true, placeholder: 'https://example.com/hooks/jobs', size: 50 });
    const boxes = webhookEvents.map(name => h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'events', value: name, checked: name === 'job.completed' || name === 'job.failed' }), name));
    const description = h('input', { id: 'wh-description', name: 'description', type: 'text', maxlength: 200 });
    const form = h('form', { class: 'webhook-new', onSubmit: add },
      h('p', {}, h('label', { for: 'wh-url' }, 'URL'), ' ', url),
      h('fieldset', {}, h('legend', {}, 'Events'), boxes),
      h('p', {}, h('label', { for: 'wh-description' }, 'Description'), ' ', description),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Add subscription')));
    replace(main, h('h1', {}, 'Webhooks'),
      h('p', { class: 'muted' }, 'Each event is POSTed as a signed CloudEvent (Standard Webhooks). The secret is shown once, when the subscription is added.'),
      table, secret, h('h2', {}, 'Add a subscription'), form);
    async function load() {
      let list;
      try {
        list = (await api('GET', '/webhooks')).items;
      } catch (error) {
        if (!disposed) say(failure(error), 'error');
        return;
      }
      if (disposed) return;
      replace(table,
        h('thead', {}, h('tr', {}, h('th', {}, 'URL'), h('th', {}, 'Events'), h('th', {}, 'State'), h('th', {}, 'Created'), h('th', {}, ''))),
        h('tbody', {}, list.length === 0 ? h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No subscriptions yet.')) : list.map(w => h('tr', { 'data-webhook': w.id },
          h('td', { 'data-label': 'URL' }, h('a', { href: `#/webhooks/${w.id}`, class: 'mono' }, w.url), w.description ? h('div', { class: 'muted' }, w.description) : null),
          h('td', { 'data-label': 'Events' }, w.events.join(', ')),
          h('td', { 'data-label': 'State' }, w.disabled ? h('span', { title: w.disabledReason || '' }, 'disabled') : 'active'),
          h('td', { 'data-label': 'Created' }, time(w.createdAt)),
          h('td', {}, h('button', { type: 'button', class: 'secondary', 'aria-label': `Delete the subscription to ${w.url}`, onClick: () => remove(w) }, 'Delete'))))));
    }
    async function add(event) {
      event.preventDefault();
      const events = boxes.map(b => b.querySelector('input')).filter(b => b.checked).map(b => b.value);
      const body = { url: url.value, events };
      if (description.value) body.description = description.value;
      try {
        const created = await api('POST', '/webhooks', { body });
        replace(secret, h('div', { class: 'notice', role: 'alert' },
          h('p', {}, 'Subscription added. Its signing secret, shown only this once:'),
          h('p', {}, h('code', { class: 'mono secret' }, created.secret))));
        url.value = '';
        description.value = '';
        say('');
      } catch (error) {
        say(failure(error), 'error');
      }
      await load();
    }
    async function remove(w) {
      if (!confirm(`Delete the subscription to ${w.url}? Its delivery log goes with it.`)) return;
      try {
        await api('DELETE', `/webhooks/${w.id}`);
        say('Subscription deleted.');
      } catch (error) {
        say(failure(error), 'error');
      }
      await load();
    }
    load();
    return { dispose() { disposed = true; } };
  }

  function webhookView(id) {
    let disposed = false;
    const heading = h('h1', {}, 'Webhook');
    const info = h('p', { class: 'muted' });
    const table = h('table', { class: 'deliveries' });
    const more = h('div', { class: 'buttons' });
    replace(main, h('p', {}, h('a', { href: '#/webhooks' }, 'All webhooks')), heading, info, table, more);
    async function load(after) {
      let subscription, page;
      try {
        [subscription, page] = await Promise.all([
          api('GET', `/webhooks/${id}`),
          api('GET', `/webhooks/${id}/deliveries`, { params: [['limit', '50'], ...(after ? [['after', after]] : [])] })]);
      } catch (error) {
        if (!disposed) say(failure(error), 'error');
        return;
      }
      if (disposed) return;
      replace(heading, 'Webhook ', h('span', { class: 'mono' }, subscription.url));
      replace(info, `${subscription.events.join(', ')} · ${subscription.disabled ? `disabled: ${subscription.disabledReason || ''}` : 'active'}`);
      replace(table,
        h('thead', {}, h('tr', {}, ['Event', 'Job', 'State', 'Attempts', 'Response', 'Latency', 'Next try', ''].map(t => h('th', {}, t)))),
        h('tbody', {}, page.items.length === 0 ? h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No deliveries yet.')) : page.items.map(d => h('tr', { 'data-delivery': d.id },
          h('td', { 'data-label': 'Event' }, d.event, h('div', { class: 'muted mono' }, d.eventId)),
          h('td', { 'data-label': 'Job' }, h('a', { href: `#/jobs/${d.jobId}`, class: 'mono' }, shortId(d.jobId))),
          h('td', { 'data-label': 'State', class: 'state' }, d.state),
          h('td', { 'data-label': 'Attempts', class: 'attempts' }, String(d.attempts)),
          h('td', { 'data-label': 'Response' }, d.responseCode ? String(d.responseCode) : (d.error || '—')),
          h('td', { 'data-label': 'Latency' }, d.latencyMs === null || d.latencyMs === undefined ? '—' : `${d.latencyMs} ms`),
          h('td', { 'data-label': 'Next try' }, time(d.nextTryAt)),
          h('td', {}, subscription.disabled ? null : h('button', { type: 'button', class: 'secondary', 'aria-label': `Retry delivery ${d.eventId}`, onClick: () => retry(d) }, 'Retry'))))));
      replace(more, page.next ? h('button', { type: 'button', class: 'secondary', onClick: () => load(page.next) }, 'Older') : null,
        after ? h('a', { href: `#/webhooks/${id}`, class: 'button secondary', onClick: () => load() }, 'Newest') : null);
    }
    async function retry(d) {
      try {
        await api('POST', `/webhooks/${id}/deliveries/${d.id}/retry`);
        say(`Delivery of ${d.eventId} retried.`);
      } catch (error) {
        say(failure(error), 'error');
      }
      await load();
    }
    load();
    return { dispose() { disposed = true; } };
  }

  // ---- schedules: the caller's recurring schedules, pause/resume/delete, and a create form -------------------------

  // GET /api/schedules (one page of 50; "More" follows its cursor). Each row: the type, cron and zone, the next runs (the
  // API computes them in the zone), whether paused, the last run linking to its job; "Runs" reads that schedule's recent
  // runs (GET /api/schedules/{id}) on demand, so the list stays one request however many schedules there are.
  function schedulesView() {
    let disposed = false;
    let next = null;
    const body = h('tbody', {});
    const table = h('table', { class: 'schedules' },
      h('thead', {}, h('tr', {}, ['Schedule', 'When', 'Next runs', 'State', 'Last run', ''].map(name => h('th', {}, name)))), body);
    const more = h('button', { type: 'button', class: 'secondary', hidden: true, onClick: () => load(false) }, 'More');
    const empty = h('p', { class: 'muted', hidden: true }, 'No schedules yet.');
    const formSlot = h('div', {});
    replace(main, h('h1', {}, 'Schedules'),
      h('p', { class: 'muted' }, 'A schedule creates an ordinary job of its type at each occurrence of its cron expression, in its time zone.'),
      h('div', { class: 'table-wrap' }, table), empty, h('div', { class: 'pager' }, more),
      h('h2', {}, 'New schedule'), formSlot);

    async function load(first) {
      let page;
      try {
        page = await api('GET', '/schedules', { params: first || !next ? [] : [['next', next]] });
      } catch (error) {
        if (!disposed) say(failure(error), 'error');
        return;
      }
      if (disposed) return;
      if (first) body.replaceChildren();
      next = page.next;
      body.append(...page.schedules.map(row));
      more.hidden = !next;
      empty.hidden = body.children.length > 0;
    }

    function row(s) {
      const runs = h('ol', { class: 'last-runs', hidden: true });
      const deleteButton = h('button', { type: 'button', class: 'danger', onClick: () => remove(s, deleteButton) }, 'Delete');
      const tr = h('tr', { 'data-schedule-id': s.id, 'data-paused': String(s.paused) },
        h('td', { 'data-label': 'Schedule' }, h('span', { class: 'mono' }, s.type), h('div', { class: 'muted mono' }, shortId(s.id)),
          s.input !== undefined ? h('details', {}, h('summary', {}, 'Input'), json(s.input)) : null),
        h('td', { 'data-label': 'When' }, h('span', { class: 'mono cron' }, s.cron), h('div', { class: 'muted zone' }, s.timeZone),
          h('div', { class: 'muted' }, `overlap ${s.overlap}, catch-up ${s.catchUp}${s.catchUp === 'all' ? ` (≤ ${s.catchUpLimit})` : ''}`)),
        h('td', { 'data-label': 'Next runs' }, s.nextRuns.length === 0 ? h('span', { class: 'muted' }, '—')
          : h('ul', { class: 'next-runs' }, s.nextRuns.map(t => h('li', { title: t.local }, time(t.at))))),
        h('td', { 'data-label': 'State' }, h('span', { class: `status ${s.paused ? 'status-cancelled' : 'status-running'} schedule-state` }, s.paused ? 'paused' : 'active'),
          s.skippedCount ? h('div', { class: 'muted' }, `${s.skippedCount} skipped`) : null),
        h('td', { 'data-label': 'Last run' }, s.lastJobId
          ? [h('a', { href: `#/jobs/${s.lastJobId}`, class: 'mono last-job' }, shortId(s.lastJobId)), h('div', { class: 'muted' }, time(s.lastOccurrence))]
          : h('span', { class: 'muted' }, 'none yet'), runs),
        h('td', { 'data-label': '' }, h('div', { class: 'buttons' },
          h('button', { type: 'button', class: 'secondary', onClick: () => setPaused(s, !s.paused) }, s.paused ? 'Resume' : 'Pause'),
          h('button', { type: 'button', class: 'secondary', onClick: () => showRuns(s, runs) }, 'Runs'),
          deleteButton)));
      return tr;
    }

    async function showRuns(s, list) {
      try {
        const full = await api('GET', `/schedules/${s.id}`);
        replace(list, (full.recentRuns || []).length === 0 ? h('li', { class: 'muted' }, 'No runs yet.')
          : full.recentRuns.map(j => h('li', {}, h('a', { href: `#/jobs/${j.id}`, class: 'mono' }, shortId(j.id)), ' ', statusBadge(j.status), ' ', time(j.createdAt))));
        list.hidden = false;
      } catch (error) {
        say(failure(error), 'error');
      }
    }

    async function setPaused(s, paused) {
      try {
        await api('PATCH', `/schedules/${s.id}`, { body: { paused } });
        say(paused ? 'Schedule paused.' : 'Schedule resumed.', 'ok');
      } catch (error) {
        say(failure(error), 'error');
      }
      await load(true);
    }

    // Two presses: the first asks, the second deletes (no browser dialog).
    async function remove(s, button) {
      if (button.dataset.confirm !== 'true') {
        button.dataset.confirm = 'true';
        button.textContent = 'Delete for good?';
        return;
      }
      try {
        await api('DELETE', `/schedules/${s.id}`);
        say('Schedule deleted.', 'ok');
      } catch (error) {
        say(failure(error), 'error');
      }
      await load(true);
    }

    types().then(all => {
      if (!disposed) replace(formSlot, scheduleForm(all.filter(t => !t.createdThrough), () => load(true)));
    }).catch(error => replace(formSlot, h('p', { class: 'error' }, failure(error))));
    load(true);
    return { dispose() { disposed = true; } };
  }

  // The create form: the API checks everything (the cron, the zone, the type's input) and its problem+json errors land
  // next to the fields they name.
  function scheduleForm(list, created) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
    const type = h('select', { name: 'type', id: 's-type' }, list.map(t => h('option', { value: t.type }, t.type)));
    const input = h('textarea', { name: 'input', id: 's-input', rows: 3, placeholder: '{"steps": 2}' });
    const cron = h('input', { name: 'cron', id: 's-cron', autocomplete: 'off', placeholder: '0 2 * * *', required: true });
    const timeZone = h('input', { name: 'timeZone', id: 's-timeZone', autocomplete: 'off', value: zone });
    const choice = (name, values) => h('select', { name, id: `s-${name}` }, values.map(v => h('option', { value: v }, v)));
    const overlap = choice('overlap', ['skip', 'queue', 'allow']);
    const catchUp = choice('catchUp', ['latest', 'none', 'all']);
    const catchUpLimit = h('input', { name: 'catchUpLimit', id: 's-catchUpLimit', type: 'number', min: 1, max: 100, placeholder: '10' });
    const paused = h('input', { type: 'checkbox', name: 'paused', id: 's-paused' });
    const fields = {
      type: field('type', 'Type', type), input: field('input', 'Input (JSON)', input),
      cron: field('cron', 'Cron (5 fields, or 6 with seconds first)', cron), timeZone: field('timeZone', 'Time zone (IANA)', timeZone),
      overlap: field('overlap', 'Overlap', overlap), catchUp: field('catchUp', 'Catch-up', catchUp),
      catchUpLimit: field('catchUpLimit', 'Catch-up limit (with "all")', catchUpLimit),
    };
    const form = h('form', { class: 'new-schedule', novalidate: true, onSubmit: event => submit(event) },
      h('section', {}, h('div', { class: 'row' }, fields.type.element, fields.cron.element, fields.timeZone.element),
        fields.input.element,
        h('div', { class: 'row' }, fields.overlap.element, fields.catchUp.element, fields.catchUpLimit.element),
        h('label', { class: 'check' }, paused, 'Create it paused')),
      h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Create schedule')));

    async function submit(event) {
      event.preventDefault();
      Object.values(fields).forEach(f => f.clear());
      const body = { type: type.value, cron: cron.value.trim(), timeZone: timeZone.value.trim() || undefined, overlap: overlap.value, catchUp: catchUp.value };
      if (input.value.trim()) {
        try {
          body.input = JSON.parse(input.value);
        } catch {
          fields.input.fail('must be JSON');
          return;
        }
      }
      if (catchUpLimit.value.trim()) body.catchUpLimit = Number(catchUpLimit.value);
      if (paused.checked) body.paused = true;
      try {
        await api('POST', '/schedules', { body });
        say('Schedule created.', 'ok');
        form.reset();
        timeZone.value = zone;
        created();
      } catch (error) {
        for (const p of (error.problem && error.problem.errors) || []) {
          const name = p.field.startsWith('input') ? 'input' : p.field;
          if (fields[name]) fields[name].fail(p.message);
        }
        say(failure(error), 'error');
      }
    }
    return form;
  }

  // ---- a new job ---------------------------------------------------------------------------------------------------

  function newJobView(params) {
    replace(main, h('h1', {}, 'New job'), h('p', { class: 'muted' }, 'Loading job types…'));
    types().then(all => {
      // Types only the service creates (a bulk action) are not offered here.
      const list = all.filter(t => !t.createdThrough);
      const chosen = list.find(t => t.type === params.get('type')) || list[0];
      const typeSelect = h('select', { id: 'n-type', name: 'type', onChange: () => { location.hash = `#/new?type=${encodeURIComponent(typeSelect.value)}`; } },
        list.map(t => h('option', { value: t.type, selected: t === chosen }, t.type)));
      const inputs = schemaFields(chosen.inputSchema);
      const common = [
        textField('correlationId', 'Correlation id'), textField('entityType', 'Entity type'), textField('entityId', 'Entity id'),
        textField('notBefore', 'Not before (ISO-8601 UTC, optional)', 'e.g. 2030-01-01T09:00:00Z'),
      ];
      const draft = h('input', { type: 'checkbox', name: 'draft', id: 'n-draft' });
      const form = h('form', { class: 'new-job', novalidate: true, onSubmit: event => submit(event) },
        h('label', { class: 'field' }, h('span', {}, 'Type'), typeSelect),
        h('p', { class: 'muted' }, chosen.description),
        h('fieldset', {}, h('legend', {}, 'Input'), inputs.length ? inputs.map(f => f.element) : h('p', { class: 'muted' }, 'This type takes no input.')),
        h('fieldset', {}, h('legend', {}, 'Job'), common.map(f => f.element), h('label', { class: 'check' }, draft, 'Save as a draft')),
        h('div', { class: 'buttons' }, h('button', { type: 'submit' }, 'Create')));
      replace(main, h('h1', {}, 'New job'), form);

      async function submit(event) {
        event.preventDefault();
        for (const f of [...inputs, ...common]) {
          f.clear();
        }
        const input = {};
        let valid = true;
        for (const f of inputs) {
          const result = f.read();
          if (result.error) {
            f.fail(result.error);
            valid = false;
          } else if (result.value !== undefined) {
            input[f.name] = result.value;
          }
        }
        if (!valid) {
          say('Some fields need attention.', 'error');
          return;
        }
        const body = { type: chosen.type, input };
        const get = name => common.find(f => f.name === name).read().value;
        if (get('correlationId')) body.correlationId = get('correlationId');
        if (get('entityType') || get('entityId')) body.entity = { type: get('entityType'), id: get('entityId') };
        if (get('notBefore')) body.notBefore = get('notBefore');
        if (draft.checked) body.draft = true;
        try {
          const created = await api('POST', '/jobs', { body });
          location.hash = `#/jobs/${created.id}`;
        } catch (error) {
          const problems = (error.problem && error.problem.errors) || [];
          for (const p of problems) {
            const name = p.field.startsWith('input.') ? p.field.slice(6).split(/[.[]/)[0]
              : ({ 'entity.type': 'entityType', 'entity.id': 'entityId' })[p.field] || p.field;
            const f = [...inputs, ...common].find(x => x.name === name);
            if (f) {
              f.fail(p.message);
            }
          }
          say(failure(error), 'error');
        }
      }
    }).catch(error => replace(main, h('h1', {}, 'New job'), h('p', { class: 'error' }, failure(error))));
    return { dispose() {} };
  }

  function textField(name, label, placeholder) {
    const control = h('input', { name, id: `n-${name}`, autocomplete: 'off', placeholder });
    return field(name, label, control, () => ({ value: control.value.trim() || undefined }));
  }

  function field(name, label, control, read) {
    const error = h('span', { class: 'field-error', id: `e-${name}` });
    const element = h('label', { class: 'field' }, h('span', {}, label), control, error);
    return {
      name, element, read,
      clear() { replace(error); control.removeAttribute('aria-invalid'); },
      fail(text) { replace(error, `${name}: ${text}`); control.setAttribute('aria-invalid', 'true'); control.setAttribute('aria-describedby', error.id); },
    };
  }

  // One field per property of the type's JSON Schema, checked by the schema's own rules before anything is sent; the
  // API checks again, and its problem+json errors land on the same fields.
  function schemaFields(schema) {
    const properties = (schema && schema.properties) || {};
    const required = new Set((schema && schema.required) || []);
    return Object.entries(properties).map(([name, property]) => {
      // A number may also be written as a string (the API reads both): the richer type decides the control.
      const typesOf = [].concat(property.type || []);
      const type = ['boolean', 'integer', 'number', 'array', 'object', 'string'].find(t => typesOf.includes(t)) || 'string';
      const label = `${name}${required.has(name) ? ' (required)' : ''}${property.description ? ` — ${property.description}` : ''}`;
      let control;
      let read;
      if (type === 'boolean') {
        control = h('input', { type: 'checkbox', name, id: `n-${name}` });
        read = () => ({ value: control.checked ? true : undefined });
      } else if (type === 'integer' || type === 'number') {
        control = h('input', { type: 'number', name, id: `n-${name}`, min: property.minimum, max: property.maximum, step: type === 'integer' ? 1 : 'any', inputmode: 'numeric' });
        read = () => {
          const text = control.value.trim();
          if (!text) return required.has(name) ? { error: 'is required' } : { value: undefined };
          const value = Number(text);
          if (!Number.isFinite(value) || (type === 'integer' && !Number.isInteger(value))) return { error: `must be ${type === 'integer' ? 'a whole number' : 'a number'}` };
          if (property.minimum !== undefined && value < property.minimum) return { error: `must be at least ${property.minimum}` };
          if (property.maximum !== undefined && value > property.maximum) return { error: `must be at most ${property.maximum}` };
          return { value };
        };
      } else if (type === 'string' && Array.isArray(property.enum)) {
        control = h('select', { name, id: `n-${name}` }, h('option', { value: '' }, '—'), property.enum.filter(v => v !== null).map(v => h('option', { value: v }, v)));
        read = () => (control.value ? { value: control.value } : required.has(name) ? { error: 'is required' } : { value: undefined });
      } else if (type === 'string') {
        control = h('input', { name, id: `n-${name}`, autocomplete: 'off', maxlength: property.maxLength });
        read = () => {
          const value = control.value;
          if (!value) return required.has(name) ? { error: 'is required' } : { value: undefined };
          if (property.minLength !== undefined && value.length < property.minLength) return { error: `must be at least ${property.minLength} characters` };
          return { value };
        };
      } else if (type === 'array' && [].concat((property.items && property.items.type) || []).includes('string')) {
        control = h('textarea', { name, id: `n-${name}`, rows: 4, placeholder: 'one per line' });
        read = () => {
          const values = control.value.split('\n').map(v => v.trim()).filter(Boolean);
          if (values.length === 0) return required.has(name) ? { error: 'is required' } : { value: undefined };
          if (property.minItems !== undefined && values.length < property.minItems) return { error: `needs at least ${property.minItems}` };
          if (property.maxItems !== undefined && values.length > property.maxItems) return { error: `takes at most ${property.maxItems}` };
          return { value: values };
        };
      } else {
        control = h('textarea', { name, id: `n-${name}`, rows: 4, placeholder: 'JSON' });
        read = () => {
          if (!control.value.trim()) return required.has(name) ? { error: 'is required' } : { value: undefined };
          try { return { value: JSON.parse(control.value) }; } catch { return { error: 'must be JSON' }; }
        };
      }
      return field(name, label, control, read);
    });
  }

  // Relative times ("3 min ago") stay true while the page is open: one timer for the whole page.
  setInterval(() => {
    for (const element of document.querySelectorAll('time[data-relative]')) {
      element.textContent = relative(new Date(element.getAttribute('datetime')));
    }
  }, 30_000);

  window.addEventListener('hashchange', route);
  route();
})();
