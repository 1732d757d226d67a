#!/usr/bin/env python3
"""Exploration (issue 14): six more per-image cues under the held-out protocol
of ../scripts/eval_deepfake_lodo.py, JPEG 90, native and 2x-downscaled test
images: colourfulness (Hasler-Suesstrunk), clipped pixels, cross-channel
residual correlation, saturation, median and flat share of 8x8 block contrast.
Each cue alone, every tail: mean and worst generator AUROC, and the AUROC of
each held-out real source (imagenet, ml72-real, faces) against the bank's own
held-out reals (0.5 is right).

    cd Notebooks-export/scripts && PYTHONPATH=. /root/venv/bin/python ../explorations/deepfake_extra_cues.py

Output kept in deepfake-extra-cues.txt. Conclusion in ../deepfake.md."""
import numpy as np, sys, io, time
sys.argv=['x']
import eval_deepfake_lodo as E, deepfake_cues as C
from PIL import Image
rows=E.manifest()
groups=sorted({r['group'] for r in rows if r['kind']=='fake'})
def extra(x):
    xf=x.astype(np.float32); r,g,b=xf[...,0],xf[...,1],xf[...,2]
    rg=r-g; yb=0.5*(r+g)-b
    colorful=np.sqrt(rg.std()**2+yb.std()**2)+0.3*np.sqrt(rg.mean()**2+yb.mean()**2)
    y=C.luma(x)
    clip=np.mean((y<=2)|(y>=253))
    # residual cross-channel correlation
    res=[c-C.blur(c) for c in (r,g,b)]
    def corr(a,b_): a=a-a.mean(); b_=b_-b_.mean(); return float((a*b_).sum()/np.sqrt((a*a).sum()*(b_*b_).sum()+1e-9))
    rc=np.mean([corr(res[0],res[1]),corr(res[1],res[2]),corr(res[0],res[2])])
    sat=(xf.max(-1)-xf.min(-1))/(xf.max(-1)+1e-3)
    # local contrast: std of luma in 8x8 blocks, log median
    h,w=y.shape; bl=y[:h//8*8,:w//8*8].reshape(h//8,8,w//8,8).std((1,3))
    return {"colorful":float(np.log(colorful+1)),"clip":float(clip),"rescorr":float(np.arctanh(min(rc,0.999))),
            "sat":float(np.mean(sat)),"blockstd_med":float(np.log(np.median(bl)+0.1)),"blockstd_flat":float(np.mean(bl<1.0))}
vals={}
for q,d in [(90,False),(90,True)]:
    t=time.time(); v={}
    for r in rows:
        x=E.harmonise(r['path'],q,d); v[r['key']]=extra(x)
    vals[(q,d)]=v; print('computed',q,d,time.time()-t,flush=True)
fitv=vals[(90,False)]
for c in fitv[rows[0]['key']]:
  for side in E.SIDES:
    res=[]
    for d in (False,True):
        vt=vals[(90,d)]
        def val(k): return (fitv if k in {r['key'] for r in rows if r.get('split')=='fit'} else vt)[k][c]
        def score(bank_sources, keys):
            bk=[r['key'] for r in rows if r.get('split')=='fit' and r['source'] in bank_sources]
            ref=np.array([fitv[k][c] for k in bk]); m=np.median(ref); s=1.4826*np.median(np.abs(ref-m))+1e-9
            z=(np.array([val(k) for k in keys])-m)/s
            from scipy.stats import norm
            return {'up':-norm.logsf(z),'down':-norm.logcdf(z),'two':-norm.logsf(np.abs(z))}[side]
        reals=E.test_keys(rows,E.SOURCES); a=[]
        for g in groups:
            f=E.test_keys(rows,group=g); s=score(E.SOURCES,reals+f); a.append(E.auroc(s[:len(reals)],s[len(reals):]))
        prov=[]
        for h in E.SOURCES:
            rest=[s_ for s_ in E.SOURCES if s_!=h]; own=E.test_keys(rows,rest); oth=[r['key'] for r in rows if r.get('source')==h]
            s=score(rest,own+oth); prov.append(E.auroc(s[:len(own)],s[len(own):]))
        res.append('%s mean %.3f min %.3f prov %s'%('down2' if d else 'native',np.mean(a),min(a),','.join('%.2f'%p for p in prov)))
    print('%-14s %-5s'%(c,side),' | '.join(res),flush=True)
