// Exploration (issue 17): time ak_depthwise_conv2d on EfficientNet-Lite0's depthwise layers at 224 px
// (one thread) and print a hash of each output, to compare compilations of depthwise.c.
// From the repository root, after `swift build -c release` (which leaves the object files):
//   clang -O3 -ISources/CKernels/include -o /tmp/dw Notebooks-export/explorations/depthwise_layers.c \
//     .build/release/CKernels.build/depthwise.c.o .build/release/CKernels.build/cpu.c.o -lm && /tmp/dw
// To try other flags, compile Sources/CKernels/depthwise.c yourself and link that object instead.
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ckernels.h"
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(){
  // EfficientNet-Lite0 depthwise layers at 224: (H, W, C, k, stride, count)
  int L[][6]={{112,112,32,3,1,1},{112,112,96,3,2,1},{56,56,144,3,1,1},{56,56,144,5,2,1},{28,28,240,5,1,1},{28,28,240,3,2,1},{14,14,480,3,1,2},{14,14,480,5,1,1},{14,14,672,5,1,2},{14,14,672,5,2,1},{7,7,1152,5,1,3},{7,7,1152,3,1,1}};
  double total=0;
  for(unsigned l=0;l<sizeof L/sizeof L[0];l++){
    int H=L[l][0],W=L[l][1],C=L[l][2],k=L[l][3],s=L[l][4],cnt=L[l][5];
    int OH=(H+s-1)/s, OW=(W+s-1)/s; int pad=((OH-1)*s+k-H); if(pad<0)pad=0;
    float*in=malloc(4*(size_t)H*W*C),*w=malloc(4*k*k*C),*b=malloc(4*C),*out=malloc(4*(size_t)OH*OW*C);
    for(size_t i=0;i<(size_t)H*W*C;i++)in[i]=(i%97)*0.01f; for(int i=0;i<k*k*C;i++)w[i]=0.1f; for(int i=0;i<C;i++)b[i]=0;
    double best=1e9; for(int r=0;r<30;r++){double t=now();ak_depthwise_conv2d(in,H,W,C,w,b,k,s,pad/2,pad/2,out,OH,OW,AK_ACTIVATION_RELU6);t=now()-t;if(t<best)best=t;}
    double flops=2.0*OH*OW*C*k*k, bytes=4.0*((double)H*W*C+(double)OH*OW*C);
    unsigned long long h=1469598103934665603ULL; unsigned char*q=(unsigned char*)out; for(size_t i=0;i<4*(size_t)OH*OW*C;i++){h^=q[i];h*=1099511628211ULL;} printf("%016llx ",h);
    printf("%3dx%3dx%4d k%d s%d: %.3f ms  %5.1f GFLOP/s  %5.1f GB/s  x%d\n",H,W,C,k,s,best*1e3,flops/best/1e9,bytes/best/1e9,cnt);
    total+=best*cnt;
  }
  printf("all depthwise of one image: %.3f ms\n", total*1e3);
}
