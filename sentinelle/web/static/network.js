// Sentinelle: the network page's graph, in SVG with no library. A small force layout
// (Fruchterman-Reingold) from deterministic start positions: nodes start on rings by their
// distance from the subject, so the same data always draws the same picture. Click or Enter
// adds a node's own links (from the API); double-click opens its subject page.
"use strict";
(function () {
  var dataEl = document.getElementById("network-data");
  var svg = document.getElementById("network-graph");
  if (!dataEl || !svg) { return; }
  // The page has no namespace URL to copy: take the one the parser gave the inline SVG.
  var NS = svg.namespaceURI;
  var data = JSON.parse(dataEl.textContent);
  var edgeLayer = svg.querySelector("g.edges");
  var nodeLayer = svg.querySelector("g.nodes");
  var statusEl = document.getElementById("network-status");
  var panel = document.getElementById("network-panel");
  var countEl = document.getElementById("network-count");
  var MAX_SHOWN = 600;     // beyond this, expanding stops: a graph that size is unreadable
  var PER_EXPANSION = 60;  // parties one click may add
  var K = 70;              // the layout's ideal link length

  var nodes = [], byId = {}, edges = [], edgeIds = {}, expanded = {}, selected = null;
  var root = null;

  function el(name, attrs, parent) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (parent) { parent.appendChild(e); }
    return e;
  }

  function label(n) { return n.name || n.party_id; }
  function short(text, max) { return text.length > max ? text.slice(0, max - 1) + "\u2026" : text; }
  function euros(v) {
    return v === null || v === undefined ? "" :
      Number(v).toLocaleString("en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }
  function score(v) { return v === null || v === undefined ? "" : Number(v).toFixed(3); }
  function roleWords(n) { return n.role === "buyer" ? "buyer (sender)" : "facilitator (beneficiary)"; }
  function describe(n) {
    var words = [roleWords(n), label(n), "(" + n.party_id + ")", "score " + (score(n.score) || "none")];
    if (n.is_alert) { words.push("alert"); }
    if (n.referred) { words.push("named in a referral"); }
    if (n.id === data.subject) { words.push("this subject"); }
    return words.join(", ");
  }
  function say(text) { if (statusEl) { statusEl.textContent = text; } }

  // ------------------------------------------------------------------ the data
  function addNode(n, near, index, count) {
    if (byId[n.id]) { return false; }
    var node = Object.assign({}, n);
    if (near) {
      // Around the node it came from, fanned out away from the centre.
      var away = Math.atan2(near.y, near.x) || 0;
      var spread = Math.min(Math.PI * 1.5, 0.5 * count);
      var angle = away + (count > 1 ? spread * (index / (count - 1) - 0.5) : 0);
      node.x = near.x + K * Math.cos(angle);
      node.y = near.y + K * Math.sin(angle);
    } else {
      node.x = 0;
      node.y = 0;
    }
    node.fixed = n.id === data.subject;
    nodes.push(node);
    byId[node.id] = node;
    return true;
  }

  function addEdge(e) {
    var id = e.source + "|" + e.target;
    if (edgeIds[id] || !byId[e.source] || !byId[e.target]) { return false; }
    var edge = Object.assign({}, e, { id: id });
    edges.push(edge);
    edgeIds[id] = edge;
    return true;
  }

  function startOnRings(list) {
    // Ring by hop; within a ring, in the server's order (strongest first).
    var rings = {};
    list.forEach(function (n) { (rings[n.hop] = rings[n.hop] || []).push(n); });
    Object.keys(rings).forEach(function (hop) {
      var ring = rings[hop], r = Number(hop) * K * 1.6;
      ring.forEach(function (n, i) {
        var node = byId[n.id];
        var angle = 2 * Math.PI * i / ring.length + Number(hop) * 0.4;
        node.x = r * Math.cos(angle);
        node.y = r * Math.sin(angle);
      });
    });
  }

  // ------------------------------------------------------------------ the layout
  function layout(iterations, heat) {
    var n = nodes.length;
    for (var it = 0; it < iterations; it++) {
      var t = heat * (1 - it / iterations) + 0.5;
      var dx = new Float64Array(n), dy = new Float64Array(n);
      for (var i = 0; i < n; i++) {
        for (var j = i + 1; j < n; j++) {
          var x = nodes[i].x - nodes[j].x, y = nodes[i].y - nodes[j].y;
          var d2 = x * x + y * y;
          if (d2 < 0.01) { x = (i - j) * 0.1; y = 0.1; d2 = x * x + y * y; }
          var f = K * K / d2;  // repulsion K²/d, along the unit vector (x, y)/d
          dx[i] += x * f; dy[i] += y * f; dx[j] -= x * f; dy[j] -= y * f;
        }
      }
      for (var e = 0; e < edges.length; e++) {
        var a = byId[edges[e].source], b = byId[edges[e].target];
        var ia = a.index, ib = b.index;
        var ex = a.x - b.x, ey = a.y - b.y;
        var d = Math.sqrt(ex * ex + ey * ey) || 0.1;
        var pull = d / K;  // attraction d²/K, along the unit vector
        dx[ia] -= ex * pull; dy[ia] -= ey * pull; dx[ib] += ex * pull; dy[ib] += ey * pull;
      }
      for (var m = 0; m < n; m++) {
        var node = nodes[m];
        if (node.fixed) { continue; }
        dx[m] -= node.x * 0.02; dy[m] -= node.y * 0.02;  // a little gravity keeps islands near
        var len = Math.sqrt(dx[m] * dx[m] + dy[m] * dy[m]) || 1;
        var step = Math.min(len, t);
        node.x += dx[m] / len * step;
        node.y += dy[m] / len * step;
      }
    }
  }

  function index() { nodes.forEach(function (n, i) { n.index = i; }); }

  // ------------------------------------------------------------------ drawing
  function radius(n) { return n.id === data.subject ? 16 : n.is_alert ? 11 : 9; }

  function fill(n) {
    if (n.is_alert) { return "#b8322a"; }
    var s = n.score || 0;  // pale to darker blue-grey with the score
    var light = Math.round(94 - 40 * s);
    return "hsl(212, 30%, " + light + "%)";
  }

  function drawNode(n) {
    var g = el("g", { "class": "node " + n.role + (n.is_alert ? " alert" : "") +
                               (n.referred ? " referred" : ""),
                      "tabindex": "0", "role": "button", "data-id": n.id,
                      "aria-label": describe(n) + ". Enter adds its links." }, nodeLayer);
    var r = radius(n);
    if (n.referred) {
      var ringAttrs = { "fill": "none", "stroke": "#6a1b9a", "stroke-width": "1.5",
                        "stroke-dasharray": "3 2" };
      if (n.role === "buyer") {
        el("circle", Object.assign({ "cx": 0, "cy": 0, "r": r + 5 }, ringAttrs), g);
      } else {
        el("rect", Object.assign({ "x": -r - 5, "y": -r - 5, "width": 2 * r + 10,
                                   "height": 2 * r + 10 }, ringAttrs), g);
      }
    }
    var attrs = { "class": "shape", "fill": fill(n), "stroke": n.is_alert ? "#4a0d0d" : "#34495e",
                  "stroke-width": n.is_alert ? 3 : (n.id === data.subject ? 2 : 1) };
    if (n.role === "buyer") {
      el("circle", Object.assign({ "cx": 0, "cy": 0, "r": r }, attrs), g);
    } else {
      el("rect", Object.assign({ "x": -r, "y": -r, "width": 2 * r, "height": 2 * r }, attrs), g);
    }
    if (n.is_alert) {
      var bang = el("text", { "x": 0, "y": 4, "text-anchor": "middle", "font-size": 11,
                              "font-weight": 700, "fill": "#fff", "class": "label" }, g);
      bang.textContent = "!";
    }
    var text = el("text", { "x": 0, "y": r + 13, "text-anchor": "middle", "font-size": 11,
                            "fill": "#1d2733", "class": "label" }, g);
    text.textContent = short(label(n), 18) + (n.referred ? " (R)" : "");
    el("title", {}, g).textContent = describe(n);
    g.addEventListener("click", function () { choose(n.id, true); });
    g.addEventListener("dblclick", function () { openSubject(n.id); });
    g.addEventListener("focus", function () { choose(n.id, false); });
    g.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); choose(n.id, true); }
    });
    n.el = g;
  }

  function drawEdge(e) {
    var line = el("line", { "stroke": e.family ? "#9aa5b4" : "#7b8794", "stroke-linecap": "butt",
                            "class": "edge" + (e.family ? " family" : "") }, edgeLayer);
    if (e.family) { line.setAttribute("stroke-dasharray", "6 4"); }
    el("title", {}, line).textContent = label(byId[e.source]) + " paid " + label(byId[e.target]) +
      ": " + e.payments + " payment(s), EUR " + euros(e.eur) + (e.family ? ", family tie" : "");
    e.el = line;
  }

  function render() {
    var maxEur = edges.reduce(function (m, e) { return Math.max(m, e.eur || 0); }, 0) || 1;
    nodes.forEach(function (n) {
      if (!n.el) { drawNode(n); }
      n.el.setAttribute("transform", "translate(" + n.x.toFixed(1) + "," + n.y.toFixed(1) + ")");
    });
    edges.forEach(function (e) {
      if (!e.el) { drawEdge(e); }
      var a = byId[e.source], b = byId[e.target];
      e.el.setAttribute("x1", a.x.toFixed(1)); e.el.setAttribute("y1", a.y.toFixed(1));
      e.el.setAttribute("x2", b.x.toFixed(1)); e.el.setAttribute("y2", b.y.toFixed(1));
      e.el.setAttribute("stroke-width", (1 + 8 * Math.sqrt((e.eur || 0) / maxEur)).toFixed(2));
    });
    var xs = nodes.map(function (n) { return n.x; }), ys = nodes.map(function (n) { return n.y; });
    // Room for the labels, which are wider than the shapes.
    var x0 = Math.min.apply(null, xs) - 80, x1 = Math.max.apply(null, xs) + 80;
    var y0 = Math.min.apply(null, ys) - 30, y1 = Math.max.apply(null, ys) + 40;
    var w = Math.max(x1 - x0, 300), h = Math.max(y1 - y0, 220);
    svg.setAttribute("viewBox", [(x0 + x1 - w) / 2, (y0 + y1 - h) / 2, w, h]
      .map(function (v) { return v.toFixed(1); }).join(" "));
    svg.setAttribute("data-nodes", String(nodes.length));
    svg.setAttribute("data-edges", String(edges.length));
  }

  // ------------------------------------------------------------------ tables and panel
  function cell(row, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (text && text.nodeType) { td.appendChild(text); } else { td.textContent = text || ""; }
    row.appendChild(td);
    return td;
  }

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    return a;
  }

  function tables() {
    var nodeBody = document.querySelector("#network-nodes tbody");
    var edgeBody = document.querySelector("#network-edges tbody");
    if (nodeBody) {
      nodeBody.textContent = "";
      nodes.forEach(function (n) {
        var tr = document.createElement("tr");
        var who = document.createDocumentFragment();
        who.appendChild(link("/subjects/" + n.id, n.name || "(no name)"));
        var id = document.createElement("span");
        id.className = "id";
        id.textContent = " " + n.party_id;
        who.appendChild(id);
        cell(tr, who);
        cell(tr, n.role); cell(tr, n.provider); cell(tr, n.country);
        cell(tr, score(n.score), "num");
        cell(tr, n.is_alert ? "alert" : ""); cell(tr, n.referred ? "referred" : "");
        cell(tr, n.hop === undefined ? "" : String(n.hop), "num");
        cell(tr, link("/network/" + n.id, "its network"));
        nodeBody.appendChild(tr);
      });
    }
    if (edgeBody) {
      edgeBody.textContent = "";
      edges.forEach(function (e) {
        var tr = document.createElement("tr");
        var a = byId[e.source], b = byId[e.target];
        cell(tr, (a.name || "(no name)") + " (" + a.party_id + ")");
        cell(tr, (b.name || "(no name)") + " (" + b.party_id + ")");
        cell(tr, String(e.payments), "num");
        cell(tr, euros(e.eur), "num");
        cell(tr, e.family ? "yes" : (e.family === null ? "unknown" : ""));
        edgeBody.appendChild(tr);
      });
    }
    if (countEl) {
      countEl.textContent = nodes.length + " parties and " + edges.length + " links shown.";
    }
  }

  function showPanel(n) {
    if (!panel) { return; }
    panel.textContent = "";
    var h = document.createElement("h2");
    h.textContent = label(n);
    panel.appendChild(h);
    var dl = document.createElement("dl");
    [["Id", n.party_id], ["Role", roleWords(n)], ["Provider", n.provider],
     ["Country", n.country || ""], ["Score", score(n.score)],
     ["Alert", n.is_alert ? "yes" : "no"], ["Referred", n.referred ? "yes" : "no"]]
      .forEach(function (pair) {
        var dt = document.createElement("dt"), dd = document.createElement("dd");
        dt.textContent = pair[0]; dd.textContent = pair[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
    panel.appendChild(dl);
    var ul = document.createElement("ul");
    var li = document.createElement("li");
    li.appendChild(link("/subjects/" + n.id, "Open its subject page"));
    ul.appendChild(li);
    li = document.createElement("li");
    li.appendChild(link("/network/" + n.id, "Centre the network on it"));
    ul.appendChild(li);
    panel.appendChild(ul);
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = expanded[n.id] ? "Its links are shown" : "Add its links to the graph";
    button.disabled = !!expanded[n.id];
    button.addEventListener("click", function () { expand(n.id); });
    panel.appendChild(button);
  }

  // ------------------------------------------------------------------ interaction
  function choose(id, andExpand) {
    if (selected && byId[selected] && byId[selected].el) {
      byId[selected].el.classList.remove("selected");
    }
    selected = id;
    byId[id].el.classList.add("selected");
    showPanel(byId[id]);
    if (andExpand) { expand(id); }
  }

  function openSubject(id) { window.location.assign("/subjects/" + id); }

  function expand(id) {
    if (expanded[id]) { return; }
    if (nodes.length >= MAX_SHOWN) {
      say("The graph already shows " + nodes.length + " parties; open a party's own network instead.");
      return;
    }
    expanded[id] = "loading";
    var from = byId[id];
    say("Loading the links of " + label(from) + "\u2026");
    fetch("/api/network/" + id + "?hops=1&max_nodes=" + PER_EXPANSION, {
      credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok) { throw new Error(result.body.message || "the server refused"); }
      merge(from, result.body);
    }).catch(function (err) {
      delete expanded[id];
      say("Could not load the links of " + label(from) + ": " + err.message);
    });
  }

  function merge(from, graph) {
    expanded[from.id] = true;
    var fresh = graph.nodes.filter(function (n) { return !byId[n.id]; });
    var added = 0, linked = 0;
    fresh.forEach(function (n, i) {
      n = Object.assign({}, n, { hop: from.hop + 1 });
      if (addNode(n, from, i, fresh.length)) { added += 1; }
    });
    graph.edges.forEach(function (e) { if (addEdge(e)) { linked += 1; } });
    index();
    layout(added ? 80 : 0, 12);
    render();
    tables();
    if (selected === from.id) { showPanel(from); }
    var more = graph.nodes_left_out ? " (" + graph.nodes_left_out + " more left out)" : "";
    say("Added " + added + " parties and " + linked + " links around " + label(from) + more + ".");
  }

  // ------------------------------------------------------------------ start
  data.nodes.forEach(function (n) { addNode(n, null, 0, 0); });
  data.edges.forEach(addEdge);
  root = byId[data.subject];
  startOnRings(data.nodes);
  if (root) { root.x = 0; root.y = 0; }
  // What the server walked completely need not be fetched again.
  if (!data.nodes_left_out) {
    nodes.forEach(function (n) { if (n.hop < data.hops) { expanded[n.id] = true; } });
  }
  index();
  layout(150, 30);
  render();
  svg.setAttribute("data-ready", "true");
})();
