/* spotcheck public site: data loading, search, the draw check and the self-check.
   No server and nothing fetched from elsewhere: data files are scripts (SC.put) loaded by <script>
   tags, which work from file:// as from any web server; hashes come from the browser's WebCrypto. */
(function () {
  "use strict";
  var SC = (window.SC = { cache: {}, waiting: {} });

  SC.put = function (name, value) {
    SC.cache[name] = value;
    var waiting = SC.waiting[name];
    delete SC.waiting[name];
    (waiting || []).forEach(function (w) { w.resolve(value); });
  };

  SC.load = function (name) {
    if (Object.prototype.hasOwnProperty.call(SC.cache, name)) return Promise.resolve(SC.cache[name]);
    return new Promise(function (resolve, reject) {
      if (SC.waiting[name]) { SC.waiting[name].push({ resolve: resolve, reject: reject }); return; }
      SC.waiting[name] = [{ resolve: resolve, reject: reject }];
      var s = document.createElement("script");
      s.src = "data/" + name + ".js";
      function fail(why) {
        var waiting = SC.waiting[name];
        delete SC.waiting[name];
        (waiting || []).forEach(function (w) { w.reject(new Error(why)); });
      }
      s.onerror = function () { fail("无法读取数据文件 data/" + name + ".js"); };
      s.onload = function () { if (SC.waiting[name]) fail("数据文件 data/" + name + ".js 内容不完整或被改动"); };
      document.head.appendChild(s);
    });
  };

  function hex(buffer) {
    var b = new Uint8Array(buffer), out = "";
    for (var i = 0; i < b.length; i++) out += (b[i] < 16 ? "0" : "") + b[i].toString(16);
    return out;
  }
  var encoder = new TextEncoder();
  SC.sha256 = function (text) {
    if (!window.crypto || !crypto.subtle) {
      return Promise.reject(new Error("浏览器未提供 WebCrypto：请用 https 网址访问本站，或把网站下载到本机后直接打开"));
    }
    return crypto.subtle.digest("SHA-256", encoder.encode(text)).then(hex);
  };
  // Many digests at once, in batches, so a list of a million codes does not queue a million promises.
  async function sha256All(texts) {
    var out = new Array(texts.length), step = 4096;
    for (var i = 0; i < texts.length; i += step) {
      var part = await Promise.all(texts.slice(i, i + step).map(SC.sha256));
      for (var j = 0; j < part.length; j++) out[i + j] = part[j];
    }
    return out;
  }

  function canonical(v) {
    if (Array.isArray(v)) return "[" + v.map(canonical).join(",") + "]";
    if (v !== null && typeof v === "object") {
      return "{" + Object.keys(v).sort().map(function (k) { return JSON.stringify(k) + ":" + canonical(v[k]); }).join(",") + "}";
    }
    return JSON.stringify(v);
  }

  function fnv(s) {
    var h = 0x811c9dc5;
    for (var i = 0; i < s.length; i++) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619) >>> 0; }
    return h;
  }
  function normal(s) { return s.normalize("NFKC").replace(/\s+/g, "").toLowerCase(); }
  function pairs(s) {
    var t = Array.from(normal(s)), seen = {};
    for (var i = 0; i + 1 < t.length; i++) seen[t[i] + t[i + 1]] = true;
    return Object.keys(seen);
  }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }
  // A ledger time (UTC, ISO) as officers read it: 2023年11月13日 10:00:00（北京时间）.
  function beijing(iso) {
    var d = new Date(new Date(iso).getTime() + 8 * 3600 * 1000);
    function two(n) { return ("0" + n).slice(-2); }
    return d.getUTCFullYear() + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日 " + two(d.getUTCHours()) + ":" +
      two(d.getUTCMinutes()) + ":" + two(d.getUTCSeconds()) + "（北京时间）";
  }
  function code(s) { return /^[0-9A-Z]{18}$/.test(s); }

  // ------------------------------------------------------------------ search

  async function searchRows(q) {
    var meta = await SC.load("search/meta");
    var c = q.toUpperCase().replace(/\s+/g, "");
    var ids;
    if (code(c)) {
      var bucket = await SC.load("search/u" + (fnv(c) % meta.ub));
      ids = Object.prototype.hasOwnProperty.call(bucket, c) ? [bucket[c]] : [];
    } else {
      var ps = pairs(q);
      if (!ps.length) throw new Error("请输入名称中连续的至少两个字，或18位统一社会信用代码");
      var lists = await Promise.all(ps.map(function (p) {
        return SC.load("search/n" + (fnv(p) % meta.nb)).then(function (b) { return Object.prototype.hasOwnProperty.call(b, p) ? b[p] : []; });
      }));
      // 0 marks a pair too common to be indexed (公司, 有限): the other pairs narrow the search.
      lists = lists.filter(function (l) { return l !== 0; });
      if (!lists.length) throw new Error("名称太常见，请输入名称中更有区别的字，或统一社会信用代码");
      lists.sort(function (a, b) { return a.length - b.length; });
      ids = lists[0].filter(function (id) { return lists.every(function (l) { return l.indexOf(id) >= 0; }); }).slice(0, 400);
    }
    var rows = [];
    for (var i = 0; i < ids.length; i++) {
      var piece = await SC.load("search/r" + Math.floor(ids[i] / meta.piece));
      rows.push(piece[ids[i] % meta.piece]);
    }
    var n = normal(q);
    rows = rows.map(function (r) {
      return [r[0], r[1], meta.authorities[r[2]], r[3].map(function (i) {
        var ref = meta.refs[i];
        return [ref[0].indexOf("results-") === 0 ? ref[0] + "#" + r[0] : ref[0], ref[1]];
      })];
    });
    return rows.filter(function (r) { return r[0] === c || normal(r[1]).indexOf(n) >= 0; }).slice(0, 100);
  }

  SC.searchPage = function () {
    var q = new URLSearchParams(location.search).get("q") || "";
    var input = document.getElementById("q"), status = document.getElementById("search-status");
    var table = document.getElementById("search-results"), body = table.querySelector("tbody");
    input.value = q;
    if (!q.trim()) return;
    status.textContent = "正在查询…";
    searchRows(q).then(function (rows) {
      body.textContent = "";
      rows.forEach(function (r) {
        var tr = el("tr");
        tr.appendChild(el("td", r[1]));
        tr.appendChild(el("td", r[0], "code"));
        tr.appendChild(el("td", r[2]));
        var td = el("td");
        r[3].forEach(function (ref, i) {
          if (i) td.appendChild(el("br"));
          var a = el("a", ref[1]);
          a.href = ref[0];
          td.appendChild(a);
        });
        tr.appendChild(td);
        body.appendChild(tr);
      });
      table.hidden = !rows.length;
      status.textContent = rows.length ? "找到 " + rows.length + " 户" + (rows.length === 100 ? "（只列前100户，请输入更完整的名称）" : "") : "没有找到与“" + q + "”相符的已公示市场主体";
    }).catch(function (e) { status.textContent = e.message; });
  };

  // ------------------------------------------------------------------ task page

  function slugOf(t) { return t.draw + "-" + t.task; }
  async function drawnRows(t) {
    var rows = [];
    for (var k = 0; k < t.drawn_pieces; k++) rows = rows.concat(await SC.load("task/" + slugOf(t) + "/d" + k));
    return rows;
  }
  async function eligibleCodes(t, si) {
    var codes = [];
    for (var k = 0; k < (t.strata[si].pieces || 0); k++) codes = codes.concat(await SC.load("task/" + slugOf(t) + "/e" + si + "-" + k));
    return codes;
  }
  function unit(t, round, stratum) {
    var r = t.rounds.filter(function (x) { return x.round === round; })[0];
    return r.unit.replace("{stratum}", stratum);
  }
  function rankHash(t, round, stratum, uscc) { return SC.sha256(t.seed.key + "|" + unit(t, round, stratum) + uscc); }
  function bigCeil(num, den) { return (num + den - 1n) / den; }
  // A stratum's count in one round: a split batch draws its own share, any other round the stratum's count.
  function roundDrawn(s, rn) { return s.by_round ? s.by_round[String(rn)] : s.drawn; }

  function renderDrawn(t, k) {
    var table = document.getElementById("drawn");
    if (!table) return;  // a task whose list the plan does not publish
    var body = table.querySelector("tbody"), pager = document.getElementById("drawn-pager");
    if (!t.drawn_pieces) { body.innerHTML = "<tr><td colspan='5'>本任务没有抽中主体。</td></tr>"; return; }
    SC.load("task/" + slugOf(t) + "/d" + k).then(function (rows) {
      body.textContent = "";
      rows.forEach(function (r, i) {
        var tr = el("tr");
        tr.appendChild(el("td", String(k * 2000 + i + 1), "num"));
        if (t.rounds.length > 1) tr.appendChild(el("td", "第" + r[0] + "轮"));
        tr.appendChild(el("td", r[2]));
        tr.appendChild(el("td", r[1], "code"));
        tr.appendChild(el("td", t.authorities[r[3]]));
        body.appendChild(tr);
      });
      pager.textContent = "";
      if (t.drawn_pieces > 1) {
        for (var p = 0; p < t.drawn_pieces; p++) {
          var b = el("button", String(p + 1), p === k ? "on" : "");
          b.type = "button";
          b.onclick = (function (p) { return function () { renderDrawn(t, p); }; })(p);
          pager.appendChild(b);
        }
      }
    });
  }

  // (1) the commitment: recorded before the random value existed, and the key follows from it.
  async function checkCommitment(t, say) {
    var seed = t.seed;
    if (seed.source === "drill") {
      var dk = await SC.sha256("spotcheck-drill|" + seed.value);
      if (dk !== seed.key) return say(false, "演练密钥与演练种子不符：SHA-256 得 " + dk + "，公布的是 " + seed.key);
      return say(null, "这是演练抽取：随机数为演练种子“" + seed.value + "”，事先没有承诺，结果不是正式抽查。密钥 " + seed.key + " 由种子算出，核对无误。");
    }
    var c = t.commitment;
    if (!c) return say(false, "没有找到本次抽取所揭示的承诺（承诺编号 " + seed.commitment_id + "）");
    var sha = await SC.sha256(canonical(c.body));
    if (sha !== c.sha256 || sha.slice(0, 16) !== c.id || c.id !== seed.commitment_id) {
      return say(false, "承诺内容的 SHA-256 为 " + sha + "，与承诺编号 " + seed.commitment_id + " 不符：承诺内容被改动");
    }
    var key = await SC.sha256("spotcheck-reveal|" + c.id + "|" + seed.value);
    if (key !== seed.key) return say(false, "由承诺编号和公布的随机数算出的密钥 " + key + " 与公布的密钥 " + seed.key + " 不符");
    var at = new Date(c.at), drawAt = new Date(c.draw_at);
    var beijingDay = new Date(at.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    if (!(at < drawAt) || beijingDay > c.body.drawn_on) {
      return say(false, "承诺记入台账的时间 " + beijing(c.at) + " 不早于随机数公布日 " + c.body.drawn_on + " 或抽取时间 " + beijing(c.draw_at));
    }
    say(true, "承诺于 " + beijing(c.at) + " 记入台账（第 " + c.seq + " 条记录，记录哈希 " + c.record_hash + "），承诺内容 SHA-256 为 " + sha +
      "；承诺时已指明随机数来源“" + c.body.beacon + "”（公布日 " + c.body.drawn_on + "），早于其公布和抽取（" + beijing(c.draw_at) +
      "）。公布的随机数为“" + seed.value + "”，由承诺编号和随机数算出密钥 " + key + "，核对无误。请向随机数发布机构核对该随机数及其公布时间。");
  }

  // (2) each drawn entity's rank hash, against its stratum's cut-off (or the task's bound).
  async function checkRanks(t, rows, say) {
    var hashes, i;
    if (t.disclosure === "tier") {
      if (t.coordination !== "joint") {
        return say(null, "本任务各层分别排序，排序所用的单位含内部分层名称，页面无法计算排序值；这一项由监督机构核验。");
      }
      hashes = await sha256All(rows.map(function (r) { return t.seed.key + "|" + unit(t, r[0], "") + r[1]; }));
      var top = {};
      for (i = 0; i < rows.length; i++) {
        var b = t.bound[String(rows[i][0])];
        if (!b || hashes[i] > b) return say(false, "名单第 " + (i + 1) + " 行 " + rows[i][2] + "（" + rows[i][1] + "）的排序值 " + hashes[i] + " 大于本任务公布的排序值上界 " + b + "：不应被抽中");
        if (!top[rows[i][0]] || hashes[i] > top[rows[i][0]]) top[rows[i][0]] = hashes[i];
      }
      for (var rnd in t.bound) {
        if (top[rnd] !== t.bound[rnd]) return say(false, "第" + rnd + "轮公布的排序值上界 " + t.bound[rnd] + " 不是抽中主体中最大的排序值（应为 " + top[rnd] + "）");
      }
      return say(true, "名单上 " + rows.length + " 户的排序值都由密钥和统一社会信用代码算出，都不大于本任务的排序值上界（各层截止值中最大的）。各层截止值会透露主体的风险等级，不予公布，由监督机构核验。");
    }
    hashes = await sha256All(rows.map(function (r) {
      if (r[4] < 0 || !t.strata[r[4]]) return "";
      return t.seed.key + "|" + unit(t, r[0], t.strata[r[4]].name) + r[1];
    }));
    var seen = {}, max = {}, count = {};
    (t.earlier_drawn || []).forEach(function (c) { seen[c] = "earlier"; });
    for (i = 0; i < rows.length; i++) {
      var r = rows[i], s = t.strata[r[4]];
      if (seen[r[1]] === "earlier") return say(false, "名单中 " + r[1] + " 已被本任务前批抽中：拆分样本的同一主体只在一个批次");
      if (!s) return say(false, "名单第 " + (i + 1) + " 行 " + r[1] + " 没有所在层");
      var dup = t.batches ? r[1] : r[0] + "|" + r[1];
      if (seen[dup]) return say(false, "名单中 " + r[1] + (t.batches ? " 出现在两个批次（拆分样本的同一主体只在一个批次）" : " 在第" + r[0] + "轮出现了两次"));
      seen[dup] = true;
      var cut = s.cutoff[String(r[0])];
      if (!cut || hashes[i] > cut) {
        return say(false, "名单第 " + (i + 1) + " 行 " + r[2] + "（" + r[1] + "）的排序值 " + hashes[i] + " 大于所在层“" + s.label + "”的截止值 " + cut + "：不应被抽中");
      }
      var key = r[4] + "|" + r[0];
      count[key] = (count[key] || 0) + 1;
      if (!max[key] || hashes[i] > max[key]) max[key] = hashes[i];
    }
    for (var si = 0; si < t.strata.length; si++) {
      for (var ri = 0; ri < t.rounds.length; ri++) {
        var s2 = t.strata[si], rn = t.rounds[ri].round, k2 = si + "|" + rn;
        var n2 = roundDrawn(s2, rn);
        if ((count[k2] || 0) !== n2) return say(false, "“" + s2.label + "”层第" + rn + "轮名单有 " + (count[k2] || 0) + " 户，公布的抽中数为 " + n2);
        if (n2 && max[k2] !== s2.cutoff[String(rn)]) {
          return say(false, "“" + s2.label + "”层第" + rn + "轮公布的截止值 " + s2.cutoff[String(rn)] + " 不是本层抽中主体中最大的排序值（应为 " + max[k2] + "）");
        }
      }
    }
    say(true, "名单上 " + rows.length + " 户的排序值都由密钥和统一社会信用代码算出，且都不大于所在层公布的截止值；每层的截止值正是本层抽中的第 n 小排序值。");
  }

  // The whole draw, for strata whose eligible list is public.
  async function checkComplete(t, rows, say) {
    for (var si = 0; si < t.strata.length; si++) {
      var s = t.strata[si], codes = await eligibleCodes(t, si);
      var sha = await SC.sha256(codes.join("\n"));
      var again = codes.filter(function (c) { return (t.earlier_drawn || []).indexOf(c) >= 0; });
      if (again.length) return say(false, "“" + s.label + "”层符合条件名单含本任务前批已抽中的 " + again.slice(0, 3).join("、") + "：后批不应再抽前批已抽的主体");
      if (codes.length !== s.eligible || sha !== s.eligible_sha256) {
        return say(false, "“" + s.label + "”层公布的符合条件名单（" + codes.length + " 户，SHA-256 " + sha + "）与抽取记录（" + s.eligible + " 户，" + s.eligible_sha256 + "）不符");
      }
      // Split batches drawn together share one ranking: each batch takes the next hashes after the batches before it.
      var orders = {}, taken = {};
      for (var ri = 0; ri < t.rounds.length; ri++) {
        var rn = t.rounds[ri].round, u = unit(t, rn, s.name);
        if (!orders[u]) {
          var hs = await sha256All(codes.map(function (c) { return t.seed.key + "|" + u + c; }));
          orders[u] = codes.map(function (c, i) { return [hs[i], c]; }).sort(function (a, b) { return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0; });
        }
        var from = t.batches ? taken[u] || 0 : 0, n = roundDrawn(s, rn);
        taken[u] = from + n;
        var want = orders[u].slice(from, from + n).map(function (x) { return x[1]; }).sort();
        var got = rows.filter(function (r) { return r[0] === rn && r[4] === si; }).map(function (r) { return r[1]; }).sort();
        if (want.join(",") !== got.join(",")) {
          var miss = want.filter(function (c) { return got.indexOf(c) < 0; }), extra = got.filter(function (c) { return want.indexOf(c) < 0; });
          return say(false, "“" + s.label + "”层第" + rn + "轮重算结果与公布的名单不同：" + (miss.length ? "应抽中而未列出 " + miss.slice(0, 3).join("、") : "") + (extra.length ? "；列出而不应抽中 " + extra.slice(0, 3).join("、") : ""));
        }
      }
    }
    say(true, "各层公布的符合条件名单与抽取记录的 SHA-256 相符；页面对每层全部主体重新计算排序值、取最小的应抽数量户" +
      (t.batches ? "（同次抽取的各批次依次取下一段排序值）" : "") + "，与公布的名单完全一致。");
  }

  // (3) each stratum's count from its eligible count and the plan's clause.
  function bounded(ratio, n, bound) {
    var parts = ratio.split("/"), num = BigInt(parts[0]), den = BigInt(parts[1]), N = BigInt(n);
    if (N <= 0n || num <= 0n) return 0n;
    if (bound === "不高于") { var f = (num * N) / den; return f < N ? f : N; }
    var c = bigCeil(num * N, den);
    if (c < 1n) c = 1n;
    return c < N ? c : N;
  }
  // A split batch's count, as the draw computes it (policy.cadence.batch_counts): the year's count, of
  // which the batches up to each one owe their cumulative share (rounded up, down for 不高于; the last
  // batch the rest), less what earlier batches drew, from the entities they left.
  function cumulative(total, shares, k, upper) {
    if (k >= shares.length) return total;
    var num = 0n, den = 1n;
    for (var i = 0; i < k; i++) {
      var p = shares[i].split("/"), n = BigInt(p[0]), d = BigInt(p[1]);
      num = num * d + n * den;
      den = den * d;
    }
    var x = BigInt(total) * num, c = upper ? x / den : bigCeil(x, den);
    return Number(c < BigInt(total) ? c : BigInt(total));
  }
  function checkBatches(t, s, upper) {
    var asked = 0, drawn = 0;
    for (var ri = 0; ri < t.rounds.length; ri++) {
      var rn = t.rounds[ri].round, upto = cumulative(s.year_wanted, t.batches.shares, rn, upper);
      var need = Math.max(0, upto - s.earlier - asked), take = Math.min(need, s.eligible - drawn);
      if (roundDrawn(s, rn) !== take) {
        return "“" + s.label + "”层全年应抽 " + s.year_wanted + " 户，截至" + t.batches.names[rn - 1] + "累计应抽 " + upto + " 户，前批已抽 " + s.earlier +
          " 户，本批应抽 " + take + " 户，公布的是 " + roundDrawn(s, rn) + " 户";
      }
      asked += need;
      drawn += take;
    }
    if (asked !== s.wanted || drawn !== s.drawn) return "“" + s.label + "”层本次应抽 " + asked + " 户、抽中 " + drawn + " 户，公布的是应抽 " + s.wanted + " 户、抽中 " + s.drawn + " 户";
    return null;
  }
  function checkCounts(t, say) {
    var total = 0, wantedSum = 0, drawnSum = 0, shared = false, i, s, cl = t.clause, split = !!t.batches;
    if (split && t.earlier_drawn) {
      var before = t.strata.reduce(function (a, x) { return a + x.earlier; }, 0);
      if (before > t.earlier_drawn.length) return say(false, "公布的前批已抽 " + before + " 户，多于本任务前批抽中名单的 " + t.earlier_drawn.length + " 户");
    }
    // A split batch's year count is taken on everyone the task may draw now, earlier batches' entities included.
    for (i = 0; i < t.strata.length; i++) total += t.strata[i].eligible + (split ? t.strata[i].earlier : 0);
    for (i = 0; i < t.strata.length; i++) {
      s = t.strata[i];
      var year = split ? s.year_wanted : s.wanted, everyone = s.eligible + (split ? s.earlier : 0);
      if (s.ratio !== null) {
        if (cl.ratios.indexOf(s.ratio) < 0) return say(false, "“" + s.label + "”层的比例 " + s.ratio + " 不是计划条款（" + cl.text + "）规定的比例");
        var expect = bounded(s.ratio, everyone, cl.bound);
        if (BigInt(year) !== expect) return say(false, "“" + s.label + "”层符合条件 " + everyone + " 户，按比例 " + s.ratio + "（" + cl.bound + "）" + (split ? "全年" : "") + "应抽 " + expect + " 户，公布的是 " + year + " 户");
      } else {
        shared = true;
      }
      if (split) {
        var wrong = checkBatches(t, s, cl.upper);
        if (wrong) return say(false, wrong);
      } else {
        var canDraw = Math.min(s.wanted, s.eligible);
        if (s.drawn !== canDraw) return say(false, "“" + s.label + "”层应抽 " + s.wanted + " 户、符合条件 " + s.eligible + " 户，抽中数应为 " + canDraw + "，公布的是 " + s.drawn);
      }
      wantedSum += year;
      drawnSum += s.drawn;
    }
    if (shared) {
      if (cl.total === null || cl.total === undefined) return say(false, "各层按总数分配，但没有公布总数");
      if (cl.count !== null && cl.count !== undefined && cl.total !== cl.count) return say(false, "公布的总数 " + cl.total + " 户与计划规定的数量 " + cl.count + " 户不符");
      var want = cl.upper ? Math.min(cl.total, total) : cl.total;
      if (wantedSum !== want) return say(false, "各层应抽数之和 " + wantedSum + " 与总数 " + want + " 户不符");
    }
    if (drawnSum * (split ? 1 : t.rounds.length) !== t.drawn_total) {
      return say(false, "各层抽中数之和 " + drawnSum + (split ? "" : "（×" + t.rounds.length + "轮）") + "与名单 " + t.drawn_total + " 户次不符");
    }
    say(true, t.strata.length + " 层的应抽数都由本层符合条件户数和计划条款“" + cl.text + "”算出" +
      (shared ? "（总数 " + cl.total + " 户按各层户数分配，各层不超过本层户数）" : "（" + (cl.bound === "不高于" ? "向下取整" : "向上取整，非空层至少1户") + "）") +
      (split ? "；分批拆分样本：全年应抽数按计划的批次份额累计，减去前批已抽的户数，得出本次各批应抽数" : "") +
      "，合计抽中 " + t.drawn_total + " 户次。");
  }

  SC.verify = async function (slug) {
    var steps = [];
    function say(ok, text) { steps.push({ ok: ok, text: text }); }
    try {
      var t = await SC.load("task/" + slug);
      await checkCommitment(t, say);
      if (!t.list_published) {
        say(null, "按抽查计划，本任务不公开抽中名单：名单和各户排序值随抽取记录报送监督机构，由其用 spotcheck verify 核验。");
      } else {
        var rows = await drawnRows(t);
        if (rows.length !== t.drawn_total) say(false, "名单共 " + rows.length + " 行，公布的抽中数为 " + t.drawn_total);
        else await checkRanks(t, rows, say);
        if (t.disclosure === "public") await checkComplete(t, rows, say);
      }
      checkCounts(t, say);
    } catch (e) {
      say(false, e.message);
    }
    return steps;
  };

  // Split batches drawn together share one ranking: a batch holds the hashes above the cut-offs of the batches before it.
  function floorOf(t, s, rn) {
    var low = null, u = unit(t, rn, s.name);
    if (!t.batches) return null;
    t.rounds.forEach(function (x) {
      var c = s.cutoff[String(x.round)];
      if (x.round < rn && unit(t, x.round, s.name) === u && c && (low === null || c > low)) low = c;
    });
    return low;
  }
  function within(t, s, rn, h) {
    var cut = s.cutoff[String(rn)], low = floorOf(t, s, rn);
    return !!cut && h <= cut && !(low !== null && h <= low);
  }

  async function selfCheck(t, uscc) {
    if (!t.list_published) {
      return { verdict: "无法在本页判定", consistent: true,
               lines: ["按抽查计划，本任务不公开抽中名单，本页无法判定该主体是否被抽中；可向监督机构核实"] };
    }
    var lines = [], rows = (await drawnRows(t)).filter(function (r) { return r[1] === uscc; });
    var verdicts = [];
    for (var ri = 0; ri < t.rounds.length; ri++) {
      var rn = t.rounds[ri].round, mine = rows.filter(function (r) { return r[0] === rn; })[0], pre = t.rounds.length > 1 ? "第" + rn + "轮：" : "";
      var drawn = !!mine, should = null, h, s, si;
      if ((t.earlier_drawn || []).indexOf(uscc) >= 0) {
        should = false;
        lines.push(pre + "已被本任务前批抽中：拆分样本的同一主体只在一个批次，本批不应再抽");
      } else if (t.disclosure === "public") {
        si = -1;
        for (var k = 0; k < t.strata.length && si < 0; k++) if ((await eligibleCodes(t, k)).indexOf(uscc) >= 0) si = k;
        if (si < 0) { should = false; lines.push(pre + "不在本任务公开的符合条件名单中（共 " + t.strata.reduce(function (a, x) { return a + x.eligible; }, 0) + " 户）"); }
        else {
          s = t.strata[si];
          h = await rankHash(t, rn, s.name, uscc);
          should = within(t, s, rn, h);
          lines.push(pre + "在“" + s.label + "”层；排序值 " + h + (h <= s.cutoff[String(rn)] ? " 不大于" : " 大于") + "本层截止值 " + s.cutoff[String(rn)] +
            (floorOf(t, s, rn) !== null && h <= floorOf(t, s, rn) ? "，但不大于同次抽取前一批次的截止值 " + floorOf(t, s, rn) + "，属于前一批次" : ""));
        }
      } else if (t.disclosure === "scope") {
        var fits = [];
        for (si = 0; si < t.strata.length; si++) {
          s = t.strata[si];
          var cut = s.cutoff[String(rn)];
          h = await rankHash(t, rn, s.name, uscc);
          if (mine && mine[4] === si) { should = within(t, s, rn, h); lines.push(pre + "名单列明在“" + s.label + "”层；排序值 " + h + (should ? " 不大于" : " 不在本批次的排序值范围内，") + "本层截止值 " + cut); }
          else if (within(t, s, rn, h)) fits.push(s.label);
        }
        if (!mine) {
          if (!fits.length) { should = false; lines.push(pre + "排序值大于每一层的截止值：无论是否在抽查范围内，都不应被抽中"); }
          else lines.push(pre + "排序值不大于“" + fits.join("、") + "”层的截止值：若属于该层的抽查范围则应被抽中。抽查范围属内部信息，本页不持有符合条件名单，无法判断；可向监督机构核实");
        }
      } else if (t.coordination === "joint") {
        h = await rankHash(t, rn, "", uscc);
        var bound = t.bound[String(rn)];
        if (!bound || h > bound) { should = false; lines.push(pre + "排序值 " + h + " 大于本任务的排序值上界 " + bound + "：无论属于哪一层，都不应被抽中"); }
        else if (drawn) { should = true; lines.push(pre + "排序值 " + h + " 不大于本任务的排序值上界 " + bound); }
        else lines.push(pre + "排序值 " + h + " 不大于本任务的排序值上界；是否应被抽中取决于内部分层（信用风险等级），本页无法判断，由监督机构核验");
      } else {
        lines.push(pre + "本任务各层分别排序，分层属内部信息，本页无法计算排序值；由监督机构核验");
      }
      lines.push(pre + (drawn ? "公布的名单中有该主体" : "公布的名单中没有该主体"));
      if (should !== null && should !== drawn) lines.push(pre + "与公布的名单不一致：请向监督机构反映");
      verdicts.push(should === null ? (drawn ? "已被抽中（本页无法判定是否应被抽中）" : "无法在本页判定") : should ? "应被抽中" : "不应被抽中");
    }
    return { verdict: verdicts.length > 1 ? verdicts.map(function (v, i) { return "第" + (i + 1) + "轮" + v; }).join("；") : verdicts[0], lines: lines,
             consistent: lines.every(function (l) { return l.indexOf("不一致") < 0; }) };
  }
  SC.selfCheck = async function (slug, uscc) {
    var t = await SC.load("task/" + slug);
    return selfCheck(t, uscc);
  };

  SC.taskPage = function (slug) {
    SC.load("task/" + slug).then(function (t) { renderDrawn(t, 0); });
    var run = document.getElementById("verify-run");
    run.onclick = function () {
      var verdict = document.getElementById("verify-verdict"), list = document.getElementById("verify-steps");
      run.disabled = true;
      verdict.className = "verdict";
      verdict.textContent = "正在验证…";
      list.textContent = "";
      SC.verify(slug).then(function (steps) {
        var bad = steps.filter(function (s) { return s.ok === false; });
        steps.forEach(function (s) {
          list.appendChild(el("li", (s.ok === true ? "✓ " : s.ok === false ? "✗ " : "· ") + s.text, s.ok === true ? "ok" : s.ok === false ? "bad" : "info"));
        });
        verdict.textContent = bad.length ? "验证未通过：" + bad[0].text : "验证通过" + (steps.some(function (s) { return s.ok === null; }) ? "（部分内容属内部信息，见下）" : "");
        verdict.className = "verdict " + (bad.length ? "bad" : "ok");
        run.disabled = false;
      });
    };
    document.getElementById("self-form").onsubmit = function (ev) {
      ev.preventDefault();
      var uscc = document.getElementById("self-uscc").value.toUpperCase().replace(/\s+/g, "");
      var verdict = document.getElementById("self-verdict"), list = document.getElementById("self-detail");
      list.textContent = "";
      if (!code(uscc)) { verdict.textContent = "请输入18位统一社会信用代码（数字和大写字母）"; verdict.className = "verdict"; return; }
      verdict.textContent = "正在计算…";
      SC.selfCheck(slug, uscc).then(function (r) {
        verdict.textContent = r.verdict;
        verdict.className = "verdict " + (r.consistent ? "ok" : "bad");
        r.lines.forEach(function (l) { list.appendChild(el("li", l)); });
      }).catch(function (e) { verdict.textContent = e.message; verdict.className = "verdict bad"; });
    };
  };
})();
