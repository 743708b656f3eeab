/* geo-township map page: decodes the layers written by geo_township.webmap and draws them
 * on a Leaflet map with a legend, search, measuring, coordinates, a mini-map and full
 * screen. Every text from the data is inserted with textContent (never as markup).
 * Over a GCJ-02 basemap (AMap) every layer is shifted to GCJ-02 for display.
 */
(function () {
  'use strict';

  // ------------------------------------------------------------------ decoding

  function base64Bytes(b64) {
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function unpack(data) {
    var bytes = base64Bytes(data.b64);
    if (!data.gzip) return Promise.resolve(bytes);
    if (typeof DecompressionStream === 'undefined') return Promise.reject(new Error('no-gzip'));
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Response(stream).arrayBuffer().then(function (buf) { return new Uint8Array(buf); });
  }

  function streamOf(bytes, data, name) {
    var s = data.streams[name];
    return s ? bytes.subarray(s[0], s[0] + s[1]) : new Uint8Array(0);
  }

  function varints(b) {
    var n = 0, i;
    for (i = 0; i < b.length; i++) if (b[i] < 128) n++;
    var out = new Float64Array(n);
    var k = 0, v = 0, mul = 1;
    for (i = 0; i < b.length; i++) {
      var c = b[i];
      v += (c & 127) * mul;
      if (c < 128) { out[k++] = v; v = 0; mul = 1; } else { mul *= 128; }
    }
    return out;
  }

  function unzigzag(v) { return (v % 2 === 0) ? v / 2 : -(v + 1) / 2; }

  function coordinates(b) {
    var v = varints(b);
    var x = 0, y = 0;
    for (var i = 0; i < v.length; i += 2) {
      x += unzigzag(v[i]); y += unzigzag(v[i + 1]);
      v[i] = x / 1e6; v[i + 1] = y / 1e6;
    }
    return v;
  }

  function texts(b, n) {
    if (!b.length) { var empty = new Array(n); for (var i = 0; i < n; i++) empty[i] = ''; return empty; }
    return new TextDecoder('utf-8').decode(b).split('\u0000');
  }

  function pad(n) { return n < 10 ? '0' + n : '' + n; }

  function isoDate(days) {
    var d = new Date(days * 86400000);
    return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate());
  }

  function formatNumber(v, decimals) {
    return v.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
  }

  /* A column accessor: get(i) → the value as display text ('' when missing). */
  function column(bytes, data, head, n) {
    var cache = null;
    function load() {
      if (cache) return cache;
      if (head.type === 'date') {
        var d = varints(streamOf(bytes, data, head.data));
        cache = function (i) { return d[i] ? isoDate(d[i] - 1 + head.base) : ''; };
      } else if (head.type === 'num') {
        var v = varints(streamOf(bytes, data, head.data));
        var scale = Math.pow(10, head.decimals);
        cache = function (i) { return v[i] ? formatNumber(unzigzag(v[i] - 1) / scale, head.decimals) : ''; };
      } else if (head.type === 'cat') {
        var words = texts(streamOf(bytes, data, head.dict), 0);
        var codes = varints(streamOf(bytes, data, head.data));
        cache = function (i) { return codes[i] ? words[codes[i] - 1] : ''; };
      } else {
        var all = texts(streamOf(bytes, data, head.data), n);
        cache = function (i) { return all[i] || ''; };
      }
      return cache;
    }
    return function (i) { return load()(i); };
  }

  // ------------------------------------------------------------------ GCJ-02 (public formula)

  var GCJ_A = 6378245.0, GCJ_EE = 0.00669342162296594323;

  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }

  function gcjDelta(lon, lat) {
    var x = lon - 105.0, y = lat - 35.0, PI = Math.PI;
    var dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0
      + (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    var dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x))
      + (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0
      + (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0
      + (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    var radlat = lat / 180.0 * PI;
    var magic = 1 - GCJ_EE * Math.sin(radlat) * Math.sin(radlat);
    var sqrtmagic = Math.sqrt(magic);
    dlat = (dlat * 180.0) / ((GCJ_A * (1 - GCJ_EE)) / (magic * sqrtmagic) * PI);
    dlon = (dlon * 180.0) / (GCJ_A / sqrtmagic * Math.cos(radlat) * PI);
    return [dlon, dlat];
  }

  function toGcj(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    var d = gcjDelta(lon, lat);
    return [lon + d[0], lat + d[1]];
  }

  function fromGcj(lon, lat) {
    var wlon = lon, wlat = lat;
    for (var k = 0; k < 6; k++) {
      var s = toGcj(wlon, wlat);
      wlon += lon - s[0]; wlat += lat - s[1];
    }
    return [wlon, wlat];
  }

  // ------------------------------------------------------------------ small DOM helpers

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }

  var SVG = 'http://www.w3.org/2000/svg';

  function swatch(symbol, color, dash, opacity) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', '18'); svg.setAttribute('height', '14'); svg.setAttribute('class', 'gt-swatch');
    var shape;
    if (symbol === 'line') {
      shape = document.createElementNS(SVG, 'line');
      shape.setAttribute('x1', '1'); shape.setAttribute('y1', '7'); shape.setAttribute('x2', '17'); shape.setAttribute('y2', '7');
      shape.setAttribute('stroke', color); shape.setAttribute('stroke-width', '3');
      if (dash) shape.setAttribute('stroke-dasharray', dash);
    } else if (symbol === 'fill') {
      shape = document.createElementNS(SVG, 'rect');
      shape.setAttribute('x', '1'); shape.setAttribute('y', '1'); shape.setAttribute('width', '16'); shape.setAttribute('height', '12');
      shape.setAttribute('fill', color); shape.setAttribute('fill-opacity', String(Math.max(opacity || 0.5, 0.25)));
      shape.setAttribute('stroke', color); shape.setAttribute('stroke-width', '1.5');
      if (dash) shape.setAttribute('stroke-dasharray', dash);
    } else {
      shape = document.createElementNS(SVG, 'path');
      var d = {
        circle: 'M14,7 A5,5 0 1,1 4,7 A5,5 0 1,1 14,7 Z',
        square: 'M4.5,2.5 H13.5 V11.5 H4.5 Z',
        triangle: 'M9,1.5 L14.5,12 L3.5,12 Z',
        diamond: 'M9,1 L15,7 L9,13 L3,7 Z'
      }[symbol] || 'M14,7 A5,5 0 1,1 4,7 A5,5 0 1,1 14,7 Z';
      shape.setAttribute('d', d); shape.setAttribute('fill', color);
      shape.setAttribute('stroke', '#ffffff'); shape.setAttribute('stroke-width', '1');
    }
    svg.appendChild(shape);
    return svg;
  }

  var ICONS = {
    ruler: 'M2,11 L11,2 L16,7 L7,16 Z M5,8 L6.5,9.5 M7,6 L9,8 M9,4 L10.5,5.5 M11,2 L13,4',
    fullscreen: 'M2,6 V2 H6 M12,2 H16 V6 M16,12 V16 H12 M6,16 H2 V12'
  };

  function icon(name) {
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', '18'); svg.setAttribute('height', '18'); svg.setAttribute('viewBox', '0 0 18 18');
    svg.setAttribute('class', 'gt-icon');
    var path = document.createElementNS(SVG, 'path');
    path.setAttribute('d', ICONS[name]); path.setAttribute('fill', 'none');
    path.setAttribute('stroke', '#333'); path.setAttribute('stroke-width', '1.6'); path.setAttribute('stroke-linejoin', 'round');
    svg.appendChild(path);
    return svg;
  }

  // ------------------------------------------------------------------ projection

  function mercX(lon) { return (lon + 180) / 360; }
  function mercY(lat) {
    lat = Math.max(Math.min(lat, 85.0511287798), -85.0511287798);
    var s = Math.sin(lat * Math.PI / 180);
    return 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  }

  // ------------------------------------------------------------------ the page

  function Page(opts) {
    this.map = opts.map;
    this.data = opts.data;
    this.groups = opts.groups;           // layer key → L.FeatureGroup (in the layer control)
    this.baseLayers = opts.basemaps;     // basemap key → L.Layer
    this.layerControl = opts.layerControl;
    this.ui = this.data.ui;
    this.shifted = false;
    this.layers = {};                    // key → decoded layer state
    this.order = [];
    this.pointLayers = [];
    this.tip = L.tooltip({ direction: 'top', offset: [0, -6], className: 'gt-tip' });
    this.renderer = L.canvas({ padding: 0.5, tolerance: 4 });
    this.errors = [];
  }

  Page.prototype.start = function () {
    var self = this, map = this.map;
    map.createPane('gt-outlines').style.zIndex = 440;
    map.createPane('gt-points').style.zIndex = 450;
    map.createPane('gt-rasters').style.zIndex = 350;
    this.outlineRenderer = L.canvas({ pane: 'gt-outlines', padding: 0.5 });
    this.buildTitle();
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    var bounds = this.data.bounds;
    map.fitBounds(bounds, { padding: [20, 20] });
    var jobs = this.data.layers.map(function (def) {
      return self.loadLayer(def).catch(function (err) {
        var msg = err && err.message === 'no-gzip' ? self.ui.too_old : String(err && err.message || err);
        self.warn(def.name + ': ' + msg);
        if (!(err && err.message === 'no-gzip')) console.warn(err);
      });
    });
    this.ready = Promise.all(jobs).then(function () {
      self.buildLegend();
      self.buildSearch();
      self.buildMeasure();
      self.buildFullscreen();
      self.buildCoordinates();
      self.buildMinimap();
      self.bindEvents();
      self.restack();
      if (window.innerWidth < 700 && self.layerControl) self.layerControl.collapse();
      document.body.setAttribute('data-map-ready', '1');
      return self;
    });
    return this;
  };

  Page.prototype.warn = function (text) {
    this.errors.push(text);
    if (this.warnBox) { this.warnBox.appendChild(el('div', 'gt-warning', text)); this.warnBox.style.display = ''; }
  };

  Page.prototype.buildTitle = function () {
    var box = el('div', 'gt-title');
    box.appendChild(el('div', 'gt-title-name', this.data.title));
    if (this.data.subtitle) box.appendChild(el('div', 'gt-title-date', this.data.subtitle));
    this.gcjNote = el('div', 'gt-gcj-note', this.ui.gcj_note);
    this.gcjNote.style.display = 'none';
    box.appendChild(this.gcjNote);
    this.warnBox = el('div', 'gt-warnings');
    this.warnBox.style.display = 'none';
    var self = this;
    this.data.warnings.forEach(function (w) { self.warnBox.appendChild(el('div', 'gt-warning', self.ui.warning + ': ' + w)); });
    if (this.data.warnings.length) this.warnBox.style.display = '';
    box.appendChild(this.warnBox);
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    this.map.getContainer().appendChild(box);
    this.titleBox = box;
  };

  // ---------------------------------------------------------------- loading layers

  Page.prototype.loadLayer = function (def) {
    var self = this;
    var state = { def: def, key: def.key, group: this.groups[def.key], features: [] };
    this.layers[def.key] = state;
    this.order.push(state);
    if (def.raster) { this.buildRaster(state); return Promise.resolve(state); }
    return unpack(def.data).then(function (bytes) {
      state.bytes = bytes;
      state.cat = varints(streamOf(bytes, def.data, 'cat'));
      state.columns = {};
      def.columns.forEach(function (head) { state.columns[head.name] = column(bytes, def.data, head, def.n); });
      if (def.geom === 'point') self.buildPoints(state);
      else if (def.geom === 'grid') self.buildGrid(state);
      else self.buildVectors(state);
      return state;
    });
  };

  Page.prototype.colorOf = function (state, i) {
    var c = state.cat[i];
    return c ? state.def.catColors[c - 1] : state.def.color;
  };

  Page.prototype.categoryLabel = function (state, i) {
    var c = state.cat[i], labels = state.def.catLabels || [];
    if (state.def.geom === 'grid') return '';
    return c && labels[c - 1] ? labels[c - 1] : '';
  };

  Page.prototype.featureId = function (state, i) {
    var f = state.def.idField || state.def.labelField;
    return f && state.columns[f] ? state.columns[f](i) : '';
  };

  Page.prototype.popupContent = function (state, i) {
    var def = state.def, box = el('div', 'gt-popup');
    var id = this.featureId(state, i);
    box.appendChild(el('div', 'gt-popup-layer', def.name));
    if (id) box.appendChild(el('div', 'gt-popup-id', id));
    var table = el('table', 'gt-popup-table');
    def.columns.forEach(function (head) {
      if (!head.popup || (id && head.name === def.idField)) return;  // the id is the popup's title
      var value = state.columns[head.name](i);
      if (value === '') return;
      var tr = el('tr');
      tr.appendChild(el('th', null, head.label));
      tr.appendChild(el('td', null, value));
      table.appendChild(tr);
    });
    box.appendChild(table);
    return box;
  };

  Page.prototype.tooltipContent = function (state, i) {
    var box = el('div', 'gt-tip-body');
    var id = this.featureId(state, i);
    if (state.def.geom === 'grid') {
      box.appendChild(el('strong', null, state.def.name));
      box.appendChild(el('div', null, state.columns.total(i) + ' ' + this.ui.features));
      return box;
    }
    box.appendChild(el('strong', null, id || state.def.name));
    var cat = this.categoryLabel(state, i);
    if (cat) box.appendChild(el('div', null, cat));
    return box;
  };

  Page.prototype.openPopup = function (state, i, latlng) {
    this.openRecords([{ state: state, index: i }], latlng);
  };

  /* One popup for every record in ``hits`` (what lies under a click, most specific first):
   * the first record in full, arrows to page through the others and a list of them all. */
  Page.prototype.openRecords = function (hits, latlng) {
    var self = this, ui = this.ui, pos = 0;
    // popups open clear of the title (top centre), panning the map when needed
    var top = this.titleBox ? this.titleBox.offsetTop + this.titleBox.offsetHeight + 6 : 5;
    var popup = L.popup({ maxWidth: 380, className: 'gt-popup-wrap', autoPanPaddingTopLeft: [5, top] })
      .setLatLng(latlng);
    // the clicked button or item is replaced by the new content: stop the click here, or
    // Leaflet, no longer finding it inside the popup, would take it for a click on the map
    function show(k, e) { if (e) L.DomEvent.stopPropagation(e); pos = k; render(); }
    function render() {
      var hit = hits[pos], box = el('div', 'gt-popups');
      if (hits.length > 1) {
        var nav = el('div', 'gt-popup-nav');
        var prev = el('button', 'gt-popup-prev', '\u2039'), next = el('button', 'gt-popup-next', '\u203a');
        prev.type = 'button'; next.type = 'button';
        prev.title = ui.previous; next.title = ui.next;
        prev.setAttribute('aria-label', ui.previous); next.setAttribute('aria-label', ui.next);
        prev.disabled = pos === 0; next.disabled = pos === hits.length - 1;
        prev.addEventListener('click', function (e) { if (pos > 0) show(pos - 1, e); });
        next.addEventListener('click', function (e) { if (pos < hits.length - 1) show(pos + 1, e); });
        nav.appendChild(prev);
        nav.appendChild(el('span', 'gt-popup-count', (pos + 1) + ' / ' + hits.length));
        nav.appendChild(next);
        box.appendChild(nav);
      }
      box.appendChild(self.popupContent(hit.state, hit.index));
      if (hits.length > 1) {
        box.appendChild(el('div', 'gt-popup-here', ui.here + ' (' + hits.length + ')'));
        var list = el('ol', 'gt-popup-list');
        hits.forEach(function (h, k) {
          var item = el('li', 'gt-popup-item' + (k === pos ? ' gt-current' : ''));
          item.appendChild(el('span', 'gt-popup-item-layer', h.state.def.name));
          item.appendChild(el('span', 'gt-popup-item-id', self.featureId(h.state, h.index) || self.categoryLabel(h.state, h.index)));
          item.tabIndex = 0;
          item.addEventListener('click', function (e) { show(k, e); });
          item.addEventListener('keydown', function (e) { if (e.key === 'Enter') show(k, e); });
          list.appendChild(item);
        });
        box.appendChild(list);
      }
      popup.setContent(box);
      self.lastPopup = { layer: hit.state.key, index: hit.index, id: self.featureId(hit.state, hit.index),
        position: pos, count: hits.length };
    }
    render();
    popup.openOn(this.map);
    this.popup = popup;
  };

  Page.prototype.lonlat = function (lon, lat) {
    return this.shifted ? toGcj(lon, lat) : [lon, lat];
  };

  // vectors: lines and polygons as canvas paths, one Leaflet path per feature
  Page.prototype.buildVectors = function (state) {
    var def = state.def, bytes = state.bytes, data = def.data;
    state.xy = coordinates(streamOf(bytes, data, 'xy'));
    state.parts = varints(streamOf(bytes, data, 'parts'));
    state.rings = def.geom === 'polygon' ? varints(streamOf(bytes, data, 'rings')) : null;
    state.verts = varints(streamOf(bytes, data, 'verts'));
    if (def.labelField) state.labelXY = coordinates(streamOf(bytes, data, 'lxy'));
    var outlineOnly = def.geom === 'polygon' && def.fillOpacity < 0.1;
    var self = this;
    for (var i = 0; i < def.n; i++) {
      var color = this.colorOf(state, i);
      var style = {
        renderer: this.renderer, color: color, weight: def.highlight ? def.weight + 2 : def.weight,
        opacity: 0.95, dashArray: def.dash || null, fill: def.geom === 'polygon',
        fillColor: color, fillOpacity: def.fillOpacity, stroke: !outlineOnly, bubblingMouseEvents: false
      };
      var path = def.geom === 'polygon' ? L.polygon([], style) : L.polyline([], style);
      path._gtIndex = i;
      state.features.push(path);
      state.group.addLayer(path);
      if (outlineOnly) {
        var outline = L.polygon([], { renderer: this.outlineRenderer, pane: 'gt-outlines', color: color,
          weight: def.weight, opacity: 0.9, fill: false, interactive: false, dashArray: def.dash || null });
        path._gtOutline = outline;
        state.group.addLayer(outline);
      }
    }
    if (def.labelField) {
      state.labels = [];
      for (var j = 0; j < def.n; j++) {
        var text = state.columns[def.labelField](j);
        if (!text) { state.labels.push(null); continue; }
        var at = this.lonlat(state.labelXY[2 * j], state.labelXY[2 * j + 1]);
        var tip = L.tooltip({ permanent: true, direction: 'center', className: 'gt-label', interactive: false })
          .setLatLng([at[1], at[0]]).setContent(el('span', null, text));
        state.labels.push(tip);
        state.group.addLayer(tip);
      }
    }
    this.placeVectors(state);
    state.group.on('click', function (e) {
      L.DomEvent.stop(e);
      self.openPopup(state, e.layer._gtIndex, e.latlng);
    });
    state.group.on('mouseover mousemove', function (e) {
      if (self.pointHover || e.layer._gtIndex === undefined) return;
      self.showTip(state, e.layer._gtIndex, e.latlng);
    });
    state.group.on('mouseout', function () { if (!self.pointHover) self.hideTip(); });
  };

  /* (Re)compute every path's latlngs from the decoded coordinates (shifted over AMap). */
  Page.prototype.placeVectors = function (state) {
    var def = state.def, xy = state.xy, parts = state.parts, rings = state.rings, verts = state.verts;
    var v = 0, r = 0, p = 0, self = this;
    function ring(count) {
      var out = new Array(count);
      for (var k = 0; k < count; k++) {
        var ll = self.lonlat(xy[2 * v], xy[2 * v + 1]);
        out[k] = L.latLng(ll[1], ll[0]);
        v++;
      }
      return out;
    }
    for (var i = 0; i < def.n; i++) {
      var shape = [];
      for (var q = 0; q < parts[i]; q++) {
        if (rings) {
          var poly = [];
          for (var t = 0; t < rings[p]; t++) { poly.push(ring(verts[r])); r++; }
          shape.push(poly);
        } else {
          shape.push(ring(verts[r])); r++;
        }
        p++;
      }
      var latlngs = shape.length === 1 ? shape[0] : shape;
      state.features[i].setLatLngs(latlngs);
      if (state.features[i]._gtOutline) state.features[i]._gtOutline.setLatLngs(latlngs);
    }
    if (state.labels) {
      for (var j = 0; j < state.labels.length; j++) {
        if (!state.labels[j]) continue;
        var ll = this.lonlat(state.labelXY[2 * j], state.labelXY[2 * j + 1]);
        state.labels[j].setLatLng([ll[1], ll[0]]);
      }
    }
  };

  Page.prototype.featureLatLng = function (state, i) {
    var def = state.def;
    if (def.geom === 'point') {
      var ll = this.lonlat(state.xy[2 * i], state.xy[2 * i + 1]);
      return L.latLng(ll[1], ll[0]);
    }
    if (def.geom === 'grid') {
      var g = def.grid;
      var c = this.lonlat(g.lon0 + (state.gi[i] + 0.5) * g.dx, g.lat0 + (state.gj[i] + 0.5) * g.dy);
      return L.latLng(c[1], c[0]);
    }
    if (state.labels && state.labels[i]) return state.labels[i].getLatLng();
    return state.features[i].getBounds().getCenter();
  };

  // points: a canvas of symbols drawn from the coordinate columns
  var PointCanvas = L.Layer.extend({
    initialize: function (page, state) { this.page = page; this.state = state; },
    onAdd: function (map) {
      this._map = map;
      this._canvas = L.DomUtil.create('canvas', 'gt-point-canvas');
      this._canvas.style.zIndex = String(this.state.def.z);
      map.getPane('gt-points').appendChild(this._canvas);
      map.on('moveend zoomend resize viewreset', this.redraw, this);
      map.on('zoomstart', this._hide, this);
      this.redraw();
    },
    onRemove: function (map) {
      map.off('moveend zoomend resize viewreset', this.redraw, this);
      map.off('zoomstart', this._hide, this);
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this.drawn = null;
    },
    _hide: function () { if (this._canvas) this._canvas.style.visibility = 'hidden'; },
    redraw: function () {
      var map = this._map, canvas = this._canvas;
      if (!map || !canvas) return;
      var size = map.getSize(), dpr = window.devicePixelRatio || 1;
      var topLeft = map.containerPointToLayerPoint([0, 0]);
      L.DomUtil.setPosition(canvas, topLeft);
      canvas.width = Math.round(size.x * dpr); canvas.height = Math.round(size.y * dpr);
      canvas.style.width = size.x + 'px'; canvas.style.height = size.y + 'px';
      canvas.style.visibility = '';
      var ctx = canvas.getContext('2d');
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.clearRect(0, 0, size.x, size.y);
      var st = this.state, def = st.def, zoom = map.getZoom();
      this.drawn = null;
      if ((def.minZoom !== null && zoom < def.minZoom) || (def.maxZoom !== null && zoom > def.maxZoom)) return;
      var scale = 256 * Math.pow(2, zoom);
      var origin = map.project(map.containerPointToLatLng([0, 0]), zoom);
      if (def.geom === 'grid') { this.drawGrid(ctx, scale, origin, size); return; }
      this.drawPoints(ctx, scale, origin, size, zoom);
    },
    drawPoints: function (ctx, scale, origin, size, zoom) {
      var st = this.state, def = st.def, mx = st.mx, my = st.my, n = mx.length;
      var r = def.radius * (zoom >= 16 ? 1.25 : (zoom <= 11 ? 0.7 : 1));
      var ncat = def.catColors.length + 1;
      var buckets = [];
      for (var c = 0; c < ncat; c++) buckets.push([]);
      var sx = new Float32Array(n), sy = new Float32Array(n), vis = [];
      for (var i = 0; i < n; i++) {
        var x = mx[i] * scale - origin.x, y = my[i] * scale - origin.y;
        if (x < -r || y < -r || x > size.x + r || y > size.y + r) continue;
        sx[i] = x; sy[i] = y;
        buckets[st.cat[i]].push(i);
        vis.push(i);
      }
      ctx.lineWidth = n > 50000 ? 0.6 : 1;
      ctx.strokeStyle = 'rgba(255,255,255,0.9)';
      // draw categories in legend order, uncategorised first; outstanding (first) on top
      for (c = ncat - 1; c >= 0; c--) {
        var list = buckets[c];
        if (!list.length) continue;
        var color = c ? def.catColors[c - 1] : def.color;
        var symbol = c ? (def.catSymbols[c - 1] || def.symbol) : def.symbol;
        ctx.fillStyle = color;
        ctx.beginPath();
        for (var k = 0; k < list.length; k++) shapePath(ctx, symbol, sx[list[k]], sy[list[k]], r);
        ctx.fill();
        if (r >= 3) ctx.stroke();
      }
      this.drawn = { idx: vis, sx: sx, sy: sy, r: r };
    },
    drawGrid: function (ctx, scale, origin, size) {
      var st = this.state, def = st.def, n = st.gi.length, alpha = def.fillOpacity;
      var vis = [], boxes = new Float32Array(4 * n);
      ctx.globalAlpha = alpha;
      for (var i = 0; i < n; i++) {
        var x0 = st.cx0[i] * scale - origin.x, x1 = st.cx1[i] * scale - origin.x;
        var y0 = st.cy1[i] * scale - origin.y, y1 = st.cy0[i] * scale - origin.y;
        if (x1 < 0 || y1 < 0 || x0 > size.x || y0 > size.y) continue;
        ctx.fillStyle = def.catColors[st.cat[i] - 1] || def.color;
        ctx.fillRect(x0, y0, Math.max(x1 - x0, 1), Math.max(y1 - y0, 1));
        boxes[4 * i] = x0; boxes[4 * i + 1] = y0; boxes[4 * i + 2] = x1; boxes[4 * i + 3] = y1;
        vis.push(i);
      }
      ctx.globalAlpha = 1;
      this.drawn = { idx: vis, boxes: boxes };
    },
    hit: function (pt) {
      var all = this.hitAll(pt, 1);
      return all.length ? all[0].index : -1;
    },
    /* The features drawn under a container point, nearest first (at most ``limit``):
     * {index, dist} in pixels; a grid cell counts as distance 0. */
    hitAll: function (pt, limit) {
      var d = this.drawn;
      if (!d) return [];
      if (d.boxes) {
        for (var k = d.idx.length - 1; k >= 0; k--) {
          var i = d.idx[k], b = d.boxes;
          if (pt.x >= b[4 * i] && pt.x <= b[4 * i + 2] && pt.y >= b[4 * i + 1] && pt.y <= b[4 * i + 3]) return [{ index: i, dist: 0 }];
        }
        return [];
      }
      var out = [], reach = (d.r + 3) * (d.r + 3);
      for (var j = 0; j < d.idx.length; j++) {
        var idx = d.idx[j], dx = d.sx[idx] - pt.x, dy = d.sy[idx] - pt.y, dd = dx * dx + dy * dy;
        if (dd <= reach) out.push({ index: idx, dist: Math.sqrt(dd) });
      }
      // the last drawn (on top) first among equals, then nearest
      out.reverse();
      out.sort(function (a, b) { return a.dist - b.dist; });
      return out.slice(0, limit);
    }
  });

  function shapePath(ctx, symbol, x, y, r) {
    if (symbol === 'square') { ctx.rect(x - r * 0.85, y - r * 0.85, r * 1.7, r * 1.7); return; }
    if (symbol === 'triangle') {
      ctx.moveTo(x, y - r * 1.1); ctx.lineTo(x + r, y + r * 0.75); ctx.lineTo(x - r, y + r * 0.75); ctx.closePath();
      return;
    }
    if (symbol === 'diamond') {
      ctx.moveTo(x, y - r * 1.1); ctx.lineTo(x + r, y); ctx.lineTo(x, y + r * 1.1); ctx.lineTo(x - r, y); ctx.closePath();
      return;
    }
    ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI);
  }

  Page.prototype.buildPoints = function (state) {
    state.xy = coordinates(streamOf(state.bytes, state.def.data, 'xy'));
    this.projectPoints(state);
    state.canvas = new PointCanvas(this, state);
    state.group.addLayer(state.canvas);
    this.pointLayers.push(state);
  };

  Page.prototype.projectPoints = function (state) {
    var n = state.def.n, xy = state.xy;
    state.mx = new Float64Array(n); state.my = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var ll = this.lonlat(xy[2 * i], xy[2 * i + 1]);
      state.mx[i] = mercX(ll[0]); state.my[i] = mercY(ll[1]);
    }
  };

  Page.prototype.buildGrid = function (state) {
    var def = state.def;
    state.gi = varints(streamOf(state.bytes, def.data, 'gi'));
    state.gj = varints(streamOf(state.bytes, def.data, 'gj'));
    this.projectGrid(state);
    state.canvas = new PointCanvas(this, state);
    state.group.addLayer(state.canvas);
    this.pointLayers.push(state);
  };

  Page.prototype.projectGrid = function (state) {
    var g = state.def.grid, n = state.gi.length;
    state.cx0 = new Float64Array(n); state.cx1 = new Float64Array(n);
    state.cy0 = new Float64Array(n); state.cy1 = new Float64Array(n);
    for (var i = 0; i < n; i++) {
      var a = this.lonlat(g.lon0 + state.gi[i] * g.dx, g.lat0 + state.gj[i] * g.dy);
      var b = this.lonlat(g.lon0 + (state.gi[i] + 1) * g.dx, g.lat0 + (state.gj[i] + 1) * g.dy);
      state.cx0[i] = mercX(a[0]); state.cy0[i] = mercY(a[1]);
      state.cx1[i] = mercX(b[0]); state.cy1[i] = mercY(b[1]);
    }
  };

  Page.prototype.buildRaster = function (state) {
    var r = state.def.raster;
    state.image = L.imageOverlay(r.url, this.shiftBounds(r.bounds), { opacity: r.opacity, pane: 'gt-rasters', interactive: false });
    state.group.addLayer(state.image);
  };

  Page.prototype.shiftBounds = function (b) {
    var sw = this.lonlat(b[0][1], b[0][0]), ne = this.lonlat(b[1][1], b[1][0]);
    return [[sw[1], sw[0]], [ne[1], ne[0]]];
  };

  /* Keep the draw order of the shared vector canvas when layers are switched on again. */
  Page.prototype.restack = function () {
    var map = this.map;
    this.order.slice().sort(function (a, b) { return a.def.z - b.def.z; }).forEach(function (state) {
      if (state.features.length && map.hasLayer(state.group)) state.group.bringToFront();
    });
  };

  // ---------------------------------------------------------------- pointer events

  Page.prototype.hitPoints = function (pt) {
    var map = this.map;
    var live = this.pointLayers.filter(function (s) { return map.hasLayer(s.group) && s.canvas.drawn; });
    live.sort(function (a, b) { return b.def.z - a.def.z; });
    for (var k = 0; k < live.length; k++) {
      var i = live[k].canvas.hit(pt);
      if (i >= 0) return { state: live[k], index: i };
    }
    return null;
  };

  var MAX_POINTS_PER_LAYER = 10, MAX_RECORDS = 25;

  function ringArea(ring) {
    var a = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) a += (ring[j].x + ring[i].x) * (ring[j].y - ring[i].y);
    return Math.abs(a / 2);
  }

  /* Whether a layer point is inside a drawn polygon (even-odd over its rings as clipped to
   * the view). Unlike a click on the outline, a click near a plot's edge is not "in" the
   * plot next door. */
  function insidePolygon(path, p) {
    var parts = path._parts || [], inside = false;
    for (var k = 0; k < parts.length; k++) {
      var ring = parts[k];
      for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        var a = ring[i], b = ring[j];
        if (((a.y > p.y) !== (b.y > p.y)) && (p.x < (b.x - a.x) * (p.y - a.y) / (b.y - a.y) + a.x)) inside = !inside;
      }
    }
    return inside;
  }

  /* Drawn area of a path in square pixels (its rings as clipped to the view). */
  function pixelArea(path) {
    var parts = path._parts || [], total = 0;
    for (var k = 0; k < parts.length; k++) total += ringArea(parts[k]);
    return total;
  }

  /* Every feature of the visible layers under a container point, most specific first:
   * points (nearest first), density-grid cells, lines (within a few pixels), then the
   * polygons the point is inside, from the smallest.
   * Where several layers draw the same thing — a sand site and its finding at one spot, a
   * parcel and its audit finding with one outline — the built-in layer's record comes
   * first, then the analyses' layers from the top one down. */
  Page.prototype.featuresAt = function (pt) {
    var map = this.map, hits = [];
    var layerPt = map.containerPointToLayerPoint(pt);
    this.order.forEach(function (state) {
      var def = state.def;
      if (def.raster || !map.hasLayer(state.group)) return;
      var base = { builtin: def.source === 'builtin' ? 0 : 1, z: def.z };
      if (state.canvas) {
        state.canvas.hitAll(pt, MAX_POINTS_PER_LAYER).forEach(function (h) {
          hits.push(L.extend({ state: state, index: h.index, rank: def.geom === 'grid' ? 1 : 0, size: h.dist }, base));
        });
        return;
      }
      for (var i = 0; i < state.features.length; i++) {
        var f = state.features[i];
        var polygon = def.geom === 'polygon';
        if (!f._pxBounds || !f._pxBounds.contains(layerPt)) continue;
        if (polygon ? !insidePolygon(f, layerPt) : !f._containsPoint(layerPt)) continue;
        hits.push(L.extend({ state: state, index: i, rank: polygon ? 3 : 2, size: polygon ? pixelArea(f) : 0 }, base));
      }
    });
    hits.sort(function (a, b) { return a.rank - b.rank || a.size - b.size || a.builtin - b.builtin || b.z - a.z; });
    // the same thing in several layers: points within a pixel, lines anywhere, polygons within 2 % in area
    var out = [], k = 0;
    while (k < hits.length) {
      var group = [hits[k]], j = k + 1;
      while (j < hits.length && hits[j].rank === hits[k].rank
             && (hits[k].rank === 2 || hits[j].size <= hits[k].size * 1.02 + 1)) group.push(hits[j++]);
      group.sort(function (a, b) { return a.builtin - b.builtin || b.z - a.z || a.size - b.size; });
      out = out.concat(group);
      k = j;
    }
    return out.slice(0, MAX_RECORDS);
  };

  Page.prototype.showTip = function (state, i, latlng) {
    this.tip.setContent(this.tooltipContent(state, i)).setLatLng(latlng);
    if (!this.map.hasLayer(this.tip)) this.tip.addTo(this.map);
  };

  Page.prototype.hideTip = function () { if (this.map.hasLayer(this.tip)) this.map.removeLayer(this.tip); };

  function insideControl(target) {
    return target && target.closest && target.closest('.leaflet-control, .leaflet-popup, .gt-title');
  }

  Page.prototype.bindEvents = function () {
    var self = this, map = this.map, container = map.getContainer();
    container.addEventListener('click', function (ev) {
      if (insideControl(ev.target)) return;
      if (self.measuring) { ev.stopPropagation(); self.measureClick(ev); return; }
      if (map.dragging && map.dragging.moved && map.dragging.moved()) return;
      var hits = self.featuresAt(map.mouseEventToContainerPoint(ev));
      if (!hits.length) return;
      ev.stopPropagation();
      var first = hits[0], latlng = first.rank <= 1 ? self.featureLatLng(first.state, first.index)
        : map.mouseEventToLatLng(ev);
      self.openRecords(hits, latlng);
    }, true);
    var pending = null;
    container.addEventListener('mousemove', function (ev) {
      if (insideControl(ev.target)) return;
      pending = ev;
      if (self._raf) return;
      self._raf = requestAnimationFrame(function () {
        self._raf = null;
        var e = pending, pt = map.mouseEventToContainerPoint(e);
        var hit = self.measuring ? null : self.hitPoints(pt);
        if (hit) {
          self.pointHover = true;
          L.DomUtil.addClass(container, 'gt-pointer');
          self.showTip(hit.state, hit.index, self.featureLatLng(hit.state, hit.index));
        } else if (self.pointHover) {
          self.pointHover = false;
          L.DomUtil.removeClass(container, 'gt-pointer');
          self.hideTip();
        }
        if (self.coordBox) self.showCoordinates(map.containerPointToLatLng(pt));
      });
    });
    map.on('overlayadd overlayremove', function () { self.restack(); self.buildLegend(); });
    map.on('baselayerchange', function (e) { self.onBasemap(e.layer); });
  };

  // ---------------------------------------------------------------- GCJ-02 over AMap

  Page.prototype.basemapOf = function (layer) {
    var found = null, self = this;
    this.data.basemaps.forEach(function (b) { if (self.baseLayers[b.key] === layer) found = b; });
    return found;
  };

  Page.prototype.onBasemap = function (layer) {
    var b = this.basemapOf(layer);
    if (!b) return;
    this.currentBasemap = b;
    if (this.minimap) this.minimap.setBasemap(b);
    this.setShift(!!b.gcj02);
  };

  Page.prototype.setShift = function (on) {
    if (on === this.shifted) return;
    this.shifted = on;
    var self = this;
    this.order.forEach(function (state) {
      if (!state.image && !state.bytes) return;  // not decoded yet: it is placed when it is
      if (state.def.raster && state.image) state.image.setBounds(L.latLngBounds(self.shiftBounds(state.def.raster.bounds)));
      else if (state.def.geom === 'point') self.projectPoints(state);
      else if (state.def.geom === 'grid') self.projectGrid(state);
      else if (state.features && state.features.length) self.placeVectors(state);
      if (state.canvas && self.map.hasLayer(state.group)) state.canvas.redraw();
    });
    this.gcjNote.style.display = on ? '' : 'none';
    this.map.closePopup();
    this.hideTip();
    if (this.measureLine) this.clearMeasure();
  };

  // ---------------------------------------------------------------- legend

  Page.prototype.buildLegend = function () {
    var self = this, map = this.map;
    if (!this.legendControl) {
      var Legend = L.Control.extend({
        options: { position: 'bottomleft' },
        onAdd: function () {
          var box = el('div', 'gt-legend leaflet-bar');
          var head = el('button', 'gt-legend-head', self.ui.legend);
          head.type = 'button';
          head.setAttribute('aria-expanded', 'true');
          self.legendBody = el('div', 'gt-legend-body');
          head.addEventListener('click', function () {
            var open = self.legendBody.style.display === 'none';
            self.legendBody.style.display = open ? '' : 'none';
            head.setAttribute('aria-expanded', open ? 'true' : 'false');
          });
          box.appendChild(head); box.appendChild(self.legendBody);
          L.DomEvent.disableClickPropagation(box);
          L.DomEvent.disableScrollPropagation(box);
          return box;
        }
      });
      this.legendControl = new Legend().addTo(map);
      if (window.innerWidth < 700) this.legendBody.style.display = 'none';
    }
    var body = this.legendBody;
    while (body.firstChild) body.removeChild(body.firstChild);
    this.order.forEach(function (state) {
      if (!map.hasLayer(state.group)) return;
      var def = state.def, sec = el('div', 'gt-legend-section');
      sec.setAttribute('data-layer', def.key);
      sec.appendChild(el('div', 'gt-legend-title', def.name));
      if (def.desc) sec.appendChild(el('div', 'gt-legend-desc', def.desc));
      if (def.minZoom !== null && def.minZoom !== undefined) {
        sec.appendChild(el('div', 'gt-legend-desc', '(' + self.ui.zoom_in + ' ≥ ' + def.minZoom + ')'));
      }
      def.legend.forEach(function (entry) {
        var row = el('div', 'gt-legend-row');
        row.appendChild(swatch(entry.symbol, entry.color, entry.dash, def.fillOpacity));
        var text = entry.label;
        if (entry.count !== null && entry.count !== undefined) text += ' (' + formatNumber(entry.count, 0) + ')';
        row.appendChild(el('span', 'gt-legend-label', text));
        sec.appendChild(row);
      });
      body.appendChild(sec);
    });
  };

  // ---------------------------------------------------------------- search

  Page.prototype.buildSearch = function () {
    var self = this;
    var Search = L.Control.extend({
      options: { position: 'topleft' },
      onAdd: function () {
        var box = el('div', 'gt-search leaflet-bar');
        var input = el('input', 'gt-search-input');
        input.type = 'search'; input.placeholder = self.ui.search; input.setAttribute('aria-label', self.ui.search);
        var list = el('ul', 'gt-search-results');
        box.appendChild(input); box.appendChild(list);
        var timer = null;
        input.addEventListener('input', function () {
          clearTimeout(timer);
          timer = setTimeout(function () { self.showMatches(input.value, list); }, 120);
        });
        input.addEventListener('keydown', function (e) {
          if (e.key === 'Enter' && list.firstChild && list.firstChild._gtHit) self.goTo(list.firstChild._gtHit, list);
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        self.searchInput = input; self.searchList = list;
        return box;
      }
    });
    new Search().addTo(this.map);
  };

  Page.prototype.searchIndex = function () {
    if (this._index) return this._index;
    var index = [];
    this.order.forEach(function (state) {
      var def = state.def;
      if (!state.columns || def.geom === 'grid') return;
      [def.idField, def.labelField].forEach(function (f) {
        if (!f || !state.columns[f] || index.some(function (x) { return x.state === state && x.field === f; })) return;
        var values = new Array(def.n);
        for (var i = 0; i < def.n; i++) values[i] = state.columns[f](i);
        var lower = values.map(function (v) { return v.toLowerCase(); });
        index.push({ state: state, field: f, values: values, lower: lower });
      });
    });
    this._index = index;
    return index;
  };

  Page.prototype.matches = function (query, limit) {
    var q = String(query || '').trim().toLowerCase(), out = [];
    if (!q) return out;
    var index = this.searchIndex(), exact = [], starts = [], inside = [];
    index.forEach(function (entry) {
      for (var i = 0; i < entry.lower.length; i++) {
        var v = entry.lower[i];
        if (!v) continue;
        var pos = v.indexOf(q);
        if (pos < 0) continue;
        var hit = { state: entry.state, index: i, text: entry.values[i] };
        if (v === q) exact.push(hit); else if (pos === 0) starts.push(hit); else inside.push(hit);
        if (exact.length >= limit) break;
      }
    });
    return exact.concat(starts, inside).slice(0, limit);
  };

  Page.prototype.showMatches = function (query, list) {
    var self = this;
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!String(query).trim()) return;
    var hits = this.matches(query, 12);
    if (!hits.length) { list.appendChild(el('li', 'gt-search-none', this.ui.no_match)); return; }
    hits.forEach(function (hit) {
      var li = el('li', 'gt-search-hit');
      li.appendChild(el('span', 'gt-search-text', hit.text));
      li.appendChild(el('span', 'gt-search-layer', hit.state.def.name));
      li._gtHit = hit;
      li.tabIndex = 0;
      li.addEventListener('click', function () { self.goTo(hit, list); });
      li.addEventListener('keydown', function (e) { if (e.key === 'Enter') self.goTo(hit, list); });
      list.appendChild(li);
    });
  };

  Page.prototype.goTo = function (hit, list) {
    var state = hit.state, def = state.def, map = this.map, i = hit.index, self = this;
    if (!map.hasLayer(state.group)) { map.addLayer(state.group); this.restack(); this.buildLegend(); }
    if (list) while (list.firstChild) list.removeChild(list.firstChild);
    var latlng = this.featureLatLng(state, i);
    if (def.geom === 'point') {
      map.setView(latlng, Math.max(map.getZoom(), def.minZoom || 0, 16));
    } else {
      map.fitBounds(state.features[i].getBounds(), { maxZoom: 17, padding: [30, 30] });
    }
    // open the popup once the map has moved there — or at once when it had nothing to move
    // (the same place was shown already): whichever comes first, once per search hit
    var token = {};
    this.goToken = token;
    function open() {
      map.off('moveend', open);
      if (self.goToken !== token) return;
      self.goToken = null;
      self.openPopup(state, i, latlng);
    }
    map.on('moveend', open);
    setTimeout(open, 400);
  };

  // ---------------------------------------------------------------- measure

  Page.prototype.buildMeasure = function () {
    var self = this;
    var Measure = L.Control.extend({
      options: { position: 'topleft' },
      onAdd: function () {
        var box = el('div', 'gt-measure leaflet-bar');
        var btn = el('a', 'gt-measure-button');
        btn.appendChild(icon('ruler'));
        btn.href = '#'; btn.title = self.ui.measure; btn.setAttribute('role', 'button');
        btn.setAttribute('aria-label', self.ui.measure);
        self.measureOut = el('div', 'gt-measure-out');
        self.measureOut.style.display = 'none';
        btn.addEventListener('click', function (e) {
          e.preventDefault();
          if (self.measuring) self.stopMeasure(true); else self.startMeasure();
        });
        box.appendChild(btn); box.appendChild(self.measureOut);
        L.DomEvent.disableClickPropagation(box);
        self.measureButton = btn;
        return box;
      }
    });
    new Measure().addTo(this.map);
  };

  Page.prototype.startMeasure = function () {
    this.clearMeasure();
    this.map.closePopup();  // an open popup would swallow the clicks that land on it
    this.measuring = true;
    this.measurePoints = [];
    this.map.doubleClickZoom.disable();
    L.DomUtil.addClass(this.map.getContainer(), 'gt-measuring');
    L.DomUtil.addClass(this.measureButton, 'gt-active');
    this.measureOut.style.display = '';
    this.measureOut.textContent = this.ui.measure;
    var self = this;
    this._dbl = function (ev) { if (self.measuring) { ev.stopPropagation(); self.stopMeasure(false); } };
    this.map.getContainer().addEventListener('dblclick', this._dbl, true);
  };

  Page.prototype.stopMeasure = function (clear) {
    this.measuring = false;
    var self = this;
    setTimeout(function () { self.map.doubleClickZoom.enable(); }, 0);
    L.DomUtil.removeClass(this.map.getContainer(), 'gt-measuring');
    L.DomUtil.removeClass(this.measureButton, 'gt-active');
    this.map.getContainer().removeEventListener('dblclick', this._dbl, true);
    if (clear) this.clearMeasure();
  };

  Page.prototype.clearMeasure = function () {
    if (this.measureLine) { this.map.removeLayer(this.measureLine); this.measureLine = null; }
    if (this.measureArea) { this.map.removeLayer(this.measureArea); this.measureArea = null; }
    this.measurePoints = [];
    if (this.measureOut) this.measureOut.style.display = 'none';
  };

  Page.prototype.measureClick = function (ev) {
    var latlng = this.map.mouseEventToLatLng(ev);
    this.measurePoints.push(latlng);
    var pts = this.measurePoints;
    var style = { color: '#111', weight: 2, dashArray: '5 4', interactive: false, renderer: this.outlineRenderer, pane: 'gt-outlines' };
    if (!this.measureLine) this.measureLine = L.polyline(pts, style).addTo(this.map); else this.measureLine.setLatLngs(pts);
    if (pts.length >= 3) {
      var a = L.extend({}, style, { fillColor: '#ffeb3b', fillOpacity: 0.2, weight: 0 });
      if (!this.measureArea) this.measureArea = L.polygon(pts, a).addTo(this.map); else this.measureArea.setLatLngs(pts);
    }
    this.measureOut.textContent = this.measureText(pts);
  };

  /* Distance along the clicked points (great circle) and the area they enclose
   * (spherical polygon area), in m/km and mu/ha. */
  Page.prototype.measureText = function (pts) {
    var dist = 0;
    for (var i = 1; i < pts.length; i++) dist += this.map.distance(pts[i - 1], pts[i]);
    var text = this.ui.distance + ': ' + (dist >= 1000 ? formatNumber(dist / 1000, 3) + ' km' : formatNumber(dist, 1) + ' m');
    if (pts.length >= 3) {
      var area = sphericalArea(pts);
      text += ' · ' + this.ui.area + ': ' + formatNumber(area / (10000 / 15), 2) + ' ' + (this.data.lang === 'zh' ? '亩' : 'mu')
        + ' (' + formatNumber(area / 10000, 4) + ' ha)';
    }
    return text;
  };

  function sphericalArea(pts) {
    var R = 6378137, total = 0, rad = Math.PI / 180;
    for (var i = 0; i < pts.length; i++) {
      var p1 = pts[i], p2 = pts[(i + 1) % pts.length];
      total += (p2.lng - p1.lng) * rad * (2 + Math.sin(p1.lat * rad) + Math.sin(p2.lat * rad));
    }
    return Math.abs(total * R * R / 2);
  }

  // ---------------------------------------------------------------- full screen, coordinates, mini-map

  Page.prototype.buildFullscreen = function () {
    var self = this, container = this.map.getContainer();
    if (!container.requestFullscreen && !container.webkitRequestFullscreen) return;
    var Full = L.Control.extend({
      options: { position: 'topleft' },
      onAdd: function () {
        var box = el('div', 'gt-fullscreen leaflet-bar');
        var btn = el('a', 'gt-fullscreen-button');
        btn.appendChild(icon('fullscreen'));
        btn.href = '#'; btn.title = self.ui.fullscreen; btn.setAttribute('role', 'button');
        btn.setAttribute('aria-label', self.ui.fullscreen);
        btn.addEventListener('click', function (e) {
          e.preventDefault();
          var doc = document;
          if (doc.fullscreenElement || doc.webkitFullscreenElement) {
            (doc.exitFullscreen || doc.webkitExitFullscreen).call(doc);
          } else {
            (container.requestFullscreen || container.webkitRequestFullscreen).call(container);
          }
        });
        box.appendChild(btn);
        L.DomEvent.disableClickPropagation(box);
        return box;
      }
    });
    new Full().addTo(this.map);
    document.addEventListener('fullscreenchange', function () { self.map.invalidateSize(); });
  };

  Page.prototype.buildCoordinates = function () {
    var self = this;
    var Coords = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        self.coordBox = el('div', 'gt-coords', self.ui.coords);
        self.coordBox.title = self.ui.coords;
        return self.coordBox;
      }
    });
    new Coords().addTo(this.map);
  };

  Page.prototype.showCoordinates = function (latlng) {
    var lon = latlng.lng, lat = latlng.lat;
    if (this.shifted) { var w = fromGcj(lon, lat); lon = w[0]; lat = w[1]; }
    this.coordBox.textContent = lon.toFixed(6) + ', ' + lat.toFixed(6);
  };

  Page.prototype.buildMinimap = function () {
    var self = this, main = this.map;
    var first = this.data.basemaps[0];
    if (!first) return;
    var Mini = L.Control.extend({
      options: { position: 'bottomright' },
      onAdd: function () {
        var box = el('div', 'gt-minimap');
        box.title = self.ui.minimap;
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    var control = new Mini().addTo(main);
    var box = control.getContainer();
    var mini = L.map(box, { attributionControl: false, zoomControl: false, dragging: false, scrollWheelZoom: false,
      doubleClickZoom: false, boxZoom: false, keyboard: false, touchZoom: false, fadeAnimation: false });
    var tiles = null;
    var rect = L.rectangle(main.getBounds(), { weight: 1.5, color: '#d7191c', fillOpacity: 0.1, interactive: false }).addTo(mini);
    function sync() {
      mini.setView(main.getCenter(), Math.max(main.getZoom() - 5, 0), { animate: false });
      rect.setBounds(main.getBounds());
    }
    this.minimap = {
      map: mini,
      setBasemap: function (b) {
        if (tiles) mini.removeLayer(tiles);
        tiles = L.tileLayer(b.urls[0], { subdomains: b.subdomains || 'abc', maxNativeZoom: b.maxNativeZoom }).addTo(mini);
      }
    };
    this.minimap.setBasemap(this.basemapOf(this.activeBase()) || first);
    mini.on('click', function (e) { main.panTo(e.latlng); });
    main.on('moveend', sync);
    sync();
  };

  Page.prototype.activeBase = function () {
    var map = this.map, found = null, self = this;
    this.data.basemaps.forEach(function (b) { if (!found && map.hasLayer(self.baseLayers[b.key])) found = self.baseLayers[b.key]; });
    return found;
  };

  // ---------------------------------------------------------------- entry point

  window.TownshipMap = {
    start: function (opts) {
      var data = JSON.parse(document.getElementById(opts.dataId).textContent);
      var page = new Page({ map: opts.map, data: data, groups: opts.groups, basemaps: opts.basemaps,
        layerControl: opts.layerControl }).start();
      var active = page.basemapOf(page.activeBase());
      if (active && active.gcj02) page.onBasemap(page.activeBase());
      window.townshipMap = page;
      return page;
    },
    toGcj: toGcj,
    fromGcj: fromGcj,
    varints: varints,
    coordinates: coordinates
  };
})();
