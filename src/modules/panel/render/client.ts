/**
 * The browser side, as text the pages carry (inline in panels, a served file for the dashboard): the
 * charts (uPlot) drawn from the renderer's data-history attributes, the dashboard's live stream, and the
 * MCP App bridge. No framework, no request anywhere but the dashboard's own server.
 */

/** The panel styles, inline in every page: readable on a phone, light or dark as the system is. */
export const PANEL_CSS = `
:root{color-scheme:light dark;--bg:#f6f7f9;--card:#fff;--fg:#1c1f24;--muted:#5c6370;--line:#dde1e6;--accent:#2f6fde;--ok:#1f8a4c;--bad:#c62f2f;--warm:#d88a00}
@media (prefers-color-scheme:dark){:root{--bg:#14171b;--card:#1d2127;--fg:#e6e8eb;--muted:#9aa3ad;--line:#313843;--accent:#6ea0ff;--ok:#46c07a;--bad:#ff6b6b;--warm:#f0b429}}
*{box-sizing:border-box}
body{margin:0;padding:12px;background:var(--bg);color:var(--fg);font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
h1{font-size:18px;margin:0 0 8px}h2{font-size:17px;margin:0}h3{font-size:14px;margin:0 0 8px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}h4{font-size:14px;margin:0 0 6px}
.host{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:12px;margin:0 0 12px}
.host-head{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.block{margin-top:12px;overflow-x:auto}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;border:1px solid var(--line)}
.badge.ok{color:var(--ok);border-color:var(--ok)}.badge.bad{color:var(--bad);border-color:var(--bad)}
.muted{color:var(--muted);margin:4px 0}.error{color:var(--bad);margin:4px 0;overflow-wrap:anywhere}
.gpu-list{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:12px}
.gpu{border:1px solid var(--line);border-radius:8px;padding:10px;min-width:0}
.metrics{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px;margin:0}
.metric dt{font-size:12px;color:var(--muted)}.metric dd{margin:0;font-size:18px;font-variant-numeric:tabular-nums}
.bar{height:8px;border-radius:4px;background:var(--line);overflow:hidden;margin-top:3px}
.bar span{display:block;height:100%;background:var(--accent);transition:width .4s}
.bar.warm span{background:var(--warm)}.bar.hot span,.bar.bad span{background:var(--bad)}.bar.done span{background:var(--ok)}
.history{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,200px),1fr));gap:8px;margin-top:10px}
.chart-box{margin:0;min-width:0}.chart-box figcaption{font-size:12px;color:var(--muted)}.chart{min-height:120px;width:100%}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}th,td{text-align:left;padding:4px 6px;border-bottom:1px solid var(--line);white-space:nowrap}
td.name{white-space:normal;overflow-wrap:anywhere}.n{text-align:right}td.barcell{min-width:90px;width:30%}
.job{border:1px solid var(--line);border-radius:8px;padding:8px;margin-bottom:8px}
.job-head{display:flex;gap:8px;flex-wrap:wrap;align-items:baseline}.job-head .name{font-weight:600;overflow-wrap:anywhere}
.state.running{color:var(--accent)}.state.failed,.state.cancelled{color:var(--bad)}.state.succeeded{color:var(--ok)}
.u-legend{display:none}
`;

/**
 * Draws (or updates) every chart under `root` from the data-history of its GPU. Charts are kept by
 * their data-chart key, so a live update moves the existing chart into the new markup and gives it
 * the new data instead of building it again (no flicker, no growing memory).
 */
export const CHARTS_JS = `
(function(){
  var COLORS=['#2f6fde','#1f8a4c','#c62f2f','#d88a00'];
  var live={};
  function options(i,width,span){
    return {width:width,height:120,legend:{show:false},cursor:{show:false},
      scales:{x:{time:true,range:function(){return [span.from,span.to]}},y:{range:function(u,min,max){return i===0?[0,100]:[0,max>0?max*1.15:1]}}},
      axes:[{size:24,font:'11px system-ui',stroke:'#888',grid:{stroke:'rgba(128,128,128,.2)'}},
            {size:52,font:'11px system-ui',stroke:'#888',grid:{stroke:'rgba(128,128,128,.2)'}}],
      series:[{},{stroke:COLORS[i],fill:COLORS[i]+'22',width:1.5,spanGaps:false}]};
  }
  function dataOf(el){
    var box=el.closest('[data-history]');var h=JSON.parse(box.getAttribute('data-history'));
    var i=Number(el.getAttribute('data-chart').split('/').pop());
    return {i:i,span:{from:h.from,to:h.to},data:[h.t,h.s[i]]};
  }
  function adopt(next){
    next.querySelectorAll('.chart[data-chart]').forEach(function(ph){
      var c=live[ph.getAttribute('data-chart')];
      if(c)ph.replaceWith(c.el);
    });
  }
  function draw(root){
    if(typeof uPlot==='undefined')return;
    var seen={};
    root.querySelectorAll('.chart[data-chart]').forEach(function(el){
      var key=el.getAttribute('data-chart');seen[key]=true;
      var c=live[key];
      var d=dataOf(el);
      if(c&&c.el===el){c.span.from=d.span.from;c.span.to=d.span.to;c.u.setData(d.data);return;}
      if(c)c.u.destroy();
      live[key]={el:el,span:d.span,u:new uPlot(options(d.i,Math.max(160,el.clientWidth||300),d.span),d.data,el)};
    });
    Object.keys(live).forEach(function(k){if(!seen[k]){live[k].u.destroy();delete live[k];}});
  }
  function resize(){Object.keys(live).forEach(function(k){var c=live[k];var w=c.el.clientWidth;if(w>0)c.u.setSize({width:w,height:120});});}
  var t;window.addEventListener('resize',function(){clearTimeout(t);t=setTimeout(resize,150);});
  window.ghtCharts={draw:draw,adopt:adopt};
})();
`;

/**
 * The dashboard's live data: GET dashboard/events (relative, so a path prefix in front works) read with
 * fetch() because EventSource cannot send the Authorization header. The stream is server-sent events
 * (text/event-stream); each "update" carries the body the server's renderer drew. A 401 asks for a key,
 * kept in sessionStorage (or localStorage when the user ticks "remember").
 */
export const DASHBOARD_JS = `
(function(){
  var STORE='ght-dashboard-key';
  var main=document.getElementById('live');var state=document.getElementById('conn');
  var form=document.getElementById('key-form');var note=document.getElementById('key-note');
  function key(){return sessionStorage.getItem(STORE)||localStorage.getItem(STORE)||'';}
  function say(text,cls){state.textContent=text;state.className='badge '+(cls||'');}
  function ask(message){
    form.hidden=false;note.textContent=message||'';say('key needed','bad');
    var input=document.getElementById('key');input.focus();
  }
  form.addEventListener('submit',function(e){
    e.preventDefault();var v=document.getElementById('key').value.trim();if(!v)return;
    sessionStorage.removeItem(STORE);localStorage.removeItem(STORE);
    (document.getElementById('remember').checked?localStorage:sessionStorage).setItem(STORE,v);
    form.hidden=true;document.getElementById('key').value='';connect();
  });
  document.getElementById('forget').addEventListener('click',function(){sessionStorage.removeItem(STORE);localStorage.removeItem(STORE);location.reload();});
  function apply(update){
    var next=document.createElement('div');next.innerHTML=update.html;
    window.ghtCharts.adopt(next);
    main.replaceChildren.apply(main,Array.prototype.slice.call(next.childNodes));
    window.ghtCharts.draw(main);
  }
  function frame(text){
    var event='message',data=[];
    text.split('\\n').forEach(function(line){
      if(!line||line.charAt(0)===':')return;
      var c=line.indexOf(':');var f=c<0?line:line.slice(0,c);var v=c<0?'':line.slice(c+1).replace(/^ /,'');
      if(f==='event')event=v;else if(f==='data')data.push(v);
    });
    if(event==='update'&&data.length)apply(JSON.parse(data.join('\\n')));
  }
  var retry;
  function again(){clearTimeout(retry);retry=setTimeout(connect,2000);}
  async function connect(){
    var headers={Accept:'text/event-stream'};var k=key();if(k)headers.Authorization='Bearer '+k;
    var res;
    try{res=await fetch('dashboard/events',{headers:headers,cache:'no-store'});}
    catch(e){say('offline, retrying','bad');again();return;}
    if(res.status===401||res.status===403){
      var body={};try{body=await res.json();}catch(e){}
      ask(body.message||('The server answered '+res.status+'.'));return;
    }
    if(!res.ok||!res.body){say('server answered '+res.status+', retrying','bad');again();return;}
    say('live','ok');document.getElementById('forget').hidden=!k;
    var reader=res.body.pipeThrough(new TextDecoderStream()).getReader();var buf='';
    try{
      for(;;){
        var r=await reader.read();if(r.done)break;
        buf+=r.value;var at;
        while((at=buf.indexOf('\\n\\n'))>=0){frame(buf.slice(0,at));buf=buf.slice(at+2);}
      }
    }catch(e){}
    say('reconnecting','bad');again();
  }
  connect();
})();
`;

/**
 * The MCP App view (io.modelcontextprotocol/ui): a JSON-RPC handshake with the host over postMessage
 * (ui/initialize, then ui/notifications/initialized), then each ui/notifications/tool-result carries
 * show_panel's structuredContent, whose html the view shows. It reports its size so the host can fit it.
 */
export const MCP_APP_JS = `
(function(){
  var main=document.getElementById('live');var next=1;var pending={};
  function send(msg){window.parent.postMessage(Object.assign({jsonrpc:'2.0'},msg),'*');}
  function request(method,params){var id=next++;send({id:id,method:method,params:params});return new Promise(function(ok){pending[id]=ok;});}
  function size(){send({method:'ui/notifications/size-changed',params:{width:document.documentElement.scrollWidth,height:document.documentElement.scrollHeight}});}
  window.addEventListener('message',function(e){
    var m=e.data;if(!m||m.jsonrpc!=='2.0')return;
    if(m.id!==undefined&&pending[m.id]){pending[m.id](m.result);delete pending[m.id];return;}
    if(m.method==='ui/notifications/tool-result'){
      var s=m.params&&m.params.structuredContent;
      if(s&&typeof s.html==='string'){main.innerHTML=s.html;window.ghtCharts.draw(main);}
      else{var t=(m.params&&m.params.content||[]).filter(function(c){return c.type==='text'}).map(function(c){return c.text}).join('\\n');main.textContent=t;}
      size();
    }else if(m.method==='ui/resource-teardown'&&m.id!==undefined){send({id:m.id,result:{}});}
  });
  request('ui/initialize',{appInfo:{name:'gpu-host-tools panel',version:'1'},appCapabilities:{},protocolVersion:'2026-01-26'}).then(function(){
    send({method:'ui/notifications/initialized',params:{}});
    // Only now: nothing but the handshake goes to the host before it.
    if(window.ResizeObserver)new ResizeObserver(size).observe(document.body);
  });
})();
`;
