# Shrinks a screenshot for the docs: an 8-bit RGB/RGBA PNG (as Chromium writes them) to a 256-colour palette PNG,
# optionally scaled by SCALE (a 2x2 average at each sample). The palette starts from the most frequent colours
# (a UI is mostly flat areas) and is refined by two k-means passes. numpy and zlib only: no image library is
# installed on these machines. Slow (minutes for a 1280x1720 shot: the PNG unfiltering is a Python loop).
# Usage: /usr/bin/python3 scripts/png-quantize.py IN.png OUT.png [SCALE]
import sys, zlib, struct
import numpy as np
if len(sys.argv) < 3:
    sys.exit('usage: png-quantize.py IN.png OUT.png [SCALE]')
def read_png(p):
    d=open(p,'rb').read()
    if d[:8]!=b'\x89PNG\r\n\x1a\n': sys.exit(f'png-quantize: {p} is not a PNG file')
    i=8; idat=b''; 
    while i<len(d):
        n,=struct.unpack('>I',d[i:i+4]); t=d[i+4:i+8]; c=d[i+8:i+8+n]; i+=12+n
        if t==b'IHDR': w,h,bd,ct=struct.unpack('>IIBB',c[:10])
        elif t==b'IDAT': idat+=c
    if bd!=8 or ct not in (2,6): sys.exit(f'png-quantize: {p}: only 8-bit RGB or RGBA PNGs (bit depth {bd}, colour type {ct})')
    ch=3 if ct==2 else 4; raw=zlib.decompress(idat); stride=w*ch
    out=np.zeros((h,stride),np.uint8); prev=np.zeros(stride,np.int32)
    for y in range(h):
        f=raw[y*(stride+1)]; line=np.frombuffer(raw,np.uint8,stride,y*(stride+1)+1).astype(np.int32)
        if f==0: cur=line
        elif f==2: cur=(line+prev)&255
        else:
            cur=np.zeros(stride,np.int32)
            for x in range(stride):
                a=cur[x-ch] if x>=ch else 0; b=prev[x]; c=prev[x-ch] if x>=ch else 0
                if f==1: pr=a
                elif f==3: pr=(a+b)//2
                else:
                    pa=abs(b-c); pb=abs(a-c); pc=abs(a+b-2*c)
                    pr=a if pa<=pb and pa<=pc else (b if pb<=pc else c)
                cur[x]=(line[x]+pr)&255
        out[y]=cur; prev=cur
    return out.reshape(h,w,ch)[:,:,:3]
img=read_png(sys.argv[1]); scale=float(sys.argv[3]) if len(sys.argv)>3 else 1.0
if scale!=1.0:
    h,w,_=img.shape; nh,nw=int(h*scale),int(w*scale)
    ys=(np.arange(nh)/scale).astype(int); xs=(np.arange(nw)/scale).astype(int)
    # area-average via 2x2 neighbourhood
    f=img.astype(np.float32); ys1=np.minimum(ys+1,h-1); xs1=np.minimum(xs+1,w-1)
    img=((f[ys][:,xs]+f[ys1][:,xs]+f[ys][:,xs1]+f[ys1][:,xs1])/4+0.5).astype(np.uint8)
h,w,_=img.shape; px=img.reshape(-1,3)
# palette: the most frequent colours (UI: flat areas), rest by k-means refinement
key=(px[:,0].astype(np.int64)<<16)|(px[:,1].astype(np.int64)<<8)|px[:,2]
u,cnt=np.unique(key,return_counts=True)
top=u[np.argsort(-cnt)[:256]]
pal=np.stack([(top>>16)&255,(top>>8)&255,top&255],1).astype(np.float32)
idx=np.empty(len(px),np.int64)
for it in range(3):
    for s in range(0,len(px),65536):
        c=px[s:s+65536].astype(np.float32)
        d=((c[:,None,:]-pal[None,:,:])**2).sum(2); idx[s:s+65536]=d.argmin(1)
    if it<2:
        for k in range(len(pal)):
            m=idx==k
            if m.any(): pal[k]=px[m].mean(0)
pal8=np.clip(pal+0.5,0,255).astype(np.uint8)
rows=idx.astype(np.uint8).reshape(h,w)
raw=b''.join(b'\x00'+rows[y].tobytes() for y in range(h))
def chunk(t,c): return struct.pack('>I',len(c))+t+c+struct.pack('>I',zlib.crc32(t+c)&0xffffffff)
png=b'\x89PNG\r\n\x1a\n'+chunk(b'IHDR',struct.pack('>IIBBBBB',w,h,8,3,0,0,0))+chunk(b'PLTE',pal8.tobytes())+chunk(b'IDAT',zlib.compress(raw,9))+chunk(b'IEND',b'')
open(sys.argv[2],'wb').write(png); print(w,h,len(png))
