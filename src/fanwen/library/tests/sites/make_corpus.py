"""Writes the importer's site corpus (pages in the shapes of ten site families) and
expectations.json beside it. Run once after editing: `python make_corpus.py`.

Every sentence here was written for this corpus; the page layouts follow the shapes of real
范文 / 文库 / blog / forum / 公众号 / mobile pages (breadcrumbs, meta lines, pay walls, share bars).
The expectations are what a careful editor would type: the article's title, its pieces' titles,
and the site chrome that must not survive into the title, intro or text.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

HERE = Path(__file__).parent

# --- text: short paragraphs by theme ------------------------------------------------------

THEMES: dict[str, list[str]] = {
    "总结": [
        "一、主要工作",
        "这一年我负责两个班的语文教学，坚持每周集体备课，认真批改每一次作业，学生的阅读兴趣明显提高。",
        "今年我们把课件统一放到校内平台，老师们可以随时下载使用，节省了大量重复备课的时间。",
        "二、存在的不足",
        "对后进生的辅导还不够细致，家访次数偏少，与部分家长的沟通主要依靠电话，效果打了折扣。",
        "三、今后的打算",
        "下学期我准备建立学习小组，每周抽出两个下午专门答疑，同时多读几本教育理论方面的书。",
        "工会会员活动每季度举办一次，参与人数比去年增加了三成，同事之间的关系也更融洽了。",
    ],
    "心得": [
        "刚到岗位的时候，我对很多流程都不熟悉，常常一件小事要问好几个人才能办完。",
        "师傅告诉我，先把规章制度读透，再去现场看别人怎么做，比自己闷头摸索快得多。",
        "两个月下来，我最大的体会是细节决定成败，一张表格填错一格，后面就要返工半天。",
        "我也明白了沟通的重要，遇到拿不准的事情及时请示，比事后补救要省心得多。",
        "培训最后一天，我们分组做了汇报，我负责的部分得到了老师的肯定，心里很踏实。",
        "今后我会把这次学到的方法用到工作中去，做一个让同事放心、让群众满意的人。",
    ],
    "申请书": [
        "敬爱的党组织：",
        "我志愿加入中国共产党，愿意为共产主义事业奋斗终身，随时准备为党和人民牺牲一切。",
        "在校期间，我认真学习党的理论，积极参加志愿服务，在班级里担任学习委员，帮助同学共同进步。",
        "我知道自己还有不少缺点，比如做事有时急躁，考虑问题不够全面，我会在今后努力改正。",
        "请党组织在实践中考验我，我一定以党员的标准严格要求自己。",
        "此致",
        "敬礼！",
        "申请人：李明",
        "2024年3月5日",
    ],
    "演讲": [
        "尊敬的各位老师，亲爱的同学们：",
        "大家好！今天我演讲的题目是珍惜时间。时间看不见也摸不着，却在我们身边悄悄溜走。",
        "有人说明天再做也不迟，可是明天之后还有明天，许多计划就这样一拖再拖，最后不了了之。",
        "我们班有一位同学每天早到十分钟背单词，一个学期下来，他的英语成绩进步了二十多分。",
        "让我们从现在做起，从今天做起，把每一分钟都用在值得做的事情上。",
        "我的演讲完毕，谢谢大家！",
    ],
    "作文": [
        "周末的早晨，外婆带我去菜市场，街边的早点铺冒着热气，油条的香味飘得老远。",
        "卖菜的阿姨认识外婆，总要多塞给她一把小葱，两个人一边挑菜一边聊家常。",
        "回家的路上，外婆给我讲她小时候的故事，那时候买东西要排很长的队，还要用粮票。",
        "我看着外婆满头的白发，忽然觉得这条走了无数遍的小路变得格外温暖。",
        "后来每到周末，我都抢着陪外婆去买菜，因为我知道，陪伴就是最好的礼物。",
        "春天的校园里，玉兰花开得正盛，洁白的花瓣像一只只停在枝头的小鸽子。",
    ],
    "计划": [
        "为了做好本学期的班级管理工作，结合班级实际情况，特制定如下计划。",
        "一、指导思想",
        "以养成教育为重点，培养学生自我管理的能力，营造团结向上的班级氛围。",
        "二、具体措施",
        "每周召开一次班干部会议，及时了解同学们的思想动态，发现问题当天解决。",
        "每月评选一次进步之星，把评选结果张贴在教室后面的展示栏里，激励大家互相学习。",
        "三、时间安排",
        "九月份重点抓常规，十月份开展读书月活动，十一月份做好期中复习和家长会的准备。",
    ],
    "检讨": [
        "尊敬的老师：",
        "昨天晚自习我在教室里玩手机，被值班老师发现，这件事我想了很久，心里非常惭愧。",
        "晚自习是大家安静学习的时间，我的行为不仅耽误了自己，也影响了周围的同学。",
        "我保证以后上课和自习期间不再带手机进教室，请老师和同学们监督我。",
        "检讨人：王小东",
        "2023年11月20日",
    ],
    "读后感": [
        "读完这本书，我久久不能平静，主人公在困境中不放弃的样子一直浮现在我眼前。",
        "他失去了双腿，却用双手摇着轮椅走遍了家乡的每一条街道，把见闻写成了一本本小书。",
        "和他相比，我平时遇到一点困难就想退缩，实在是太不应该了。",
        "这本书让我懂得，真正的强大不是从不跌倒，而是每次跌倒后都能重新站起来。",
        "我把书中最喜欢的一句话抄在日记本的第一页，提醒自己遇事不要轻易放弃。",
    ],
    "倡议书": [
        "亲爱的同学们：",
        "每到午饭时间，食堂的泔水桶里总有不少剩饭剩菜，看了实在让人心疼。",
        "为此，我们向全校同学发出倡议：按需取餐，吃多少打多少，不挑食，不浪费。",
        "让我们从自己做起，从每一粒米做起，把节约变成一种习惯。",
        "校学生会",
        "2024年4月8日",
    ],
}


def paras(theme: str, start: int, count: int) -> list[str]:
    pool = THEMES[theme]
    return [pool[(start + i) % len(pool)] for i in range(count)]


# --- families ---------------------------------------------------------------------------

CN = "一二三四五六七八九十"


def marker_lines(style: str, n: int, piece_title: str, stem: str) -> tuple[list[str], str]:
    """(marker lines, expected piece title) for piece n (1-based) in a marker style."""
    c = CN[n - 1]
    if style == "bracket-title":  # 【篇一】 then the piece's own title on the next line
        return [f"【篇{c}】", piece_title], piece_title
    if style == "pian-colon":
        return [f"篇{c}：{piece_title}"], piece_title
    if style == "stem":  # XX总结篇一
        return [f"{stem}篇{c}"], f"{stem}篇{c}"
    if style == "fanwen":
        return [f"范文{n}：{piece_title}"], piece_title
    if style == "bare":  # 【篇一】 straight into the text
        return [f"【篇{c}】"], ""
    raise ValueError(style)


def body_lines(spec: dict) -> tuple[list[tuple[str, str]], list[str]]:
    """[(kind, text)] of the article body, and the expected piece titles."""
    out: list[tuple[str, str]] = []
    titles: list[str] = []
    if spec.get("intro"):
        out.append(("p", spec["intro"]))
    pieces = spec["pieces"]
    for n, (piece_title, texts) in enumerate(pieces, 1):
        if len(pieces) > 1:
            lines, expected = marker_lines(spec["markers"], n, piece_title, spec["stem"])
            out.extend(("m", line) for line in lines)
            titles.append(expected)
        else:
            titles.append("")
        out.extend(("p", text) for text in texts)
    return out, titles


def html_body(lines: list[tuple[str, str]], marker_tag: str = "p", br: bool = False) -> str:
    if br:
        return "<br>\n".join(f"&nbsp;&nbsp;{text}" for _, text in lines)
    parts = []
    for kind, text in lines:
        tag = marker_tag if kind == "m" else "p"
        parts.append(f"<{tag}>{text}</{tag}>")
    return "\n".join(parts)


def page(head: str, body: str, charset: str = "utf-8") -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="{charset}">\n{head}\n'
        f"</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def fam_fanwen(spec, lines):
    """Classic 范文网: 当前位置 trail ending at the article, h1, meta line, 【篇一】 pieces."""
    s = spec
    return page(
        f"<title>{s['page_title']}_{s['site']}</title>",
        f"""<div class="top"><a href="/"><img src="/logo.png" alt="{s["site"]}"></a>
<ul class="menu"><li><a href="/zongjie/">工作总结</a></li><li><a href="/xinde/">心得体会</a></li><li><a href="/shenqing/">申请书</a></li></ul></div>
<div class="place">当前位置：<a href="/">首页</a> &gt; <a href="/{s["slug"]}/">{s["category"]}</a> &gt; {s["crumb_last"]}</div>
<div class="article">
<h1>{s["h1"]}</h1>
<div class="art-info">时间：2023-06-12 09:31 &nbsp; 来源：网友投稿 &nbsp; 阅读：{s["n"] * 37 + 211}次</div>
<div class="arc-body">
{html_body(lines)}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
<div class="pn">上一篇：<a href="/a/1.html">班主任工作计划</a> 下一篇：<a href="/a/3.html">学生会工作总结</a></div>
</div>
<div class="xgtj"><h3>相关推荐</h3><ul><li><a href="/a/9.html">年度个人工作总结范文</a></li><li><a href="/a/8.html">实习心得体会精选</a></li></ul></div>
<div class="foot">Copyright © 2012-2024 {s["site"]} 版权所有 京ICP备12345678号</div>""",
    )


def fam_crumb_category(spec, lines):
    """Breadcrumb ends at the category; a text logo <h1> in the header; the title in <h1> or <h2>."""
    s = spec
    title_tag = s.get("title_tag", "h1")
    return page(
        f"<title>{s['page_title']}_{s['site']}</title>\n"
        f'<link rel="canonical" href="https://www.{s["host"]}/{s["slug"]}/{s["n"]}.html">',
        f"""<div id="header"><div class="site-name"><h1>{s["site"]}</h1></div>
<div class="search"><input type="text" placeholder="搜索范文"><span>搜索</span></div></div>
<div class="dqwz">您现在的位置：<a href="/">首页</a> &gt;&gt; <a href="/fanwen/">范文</a> &gt;&gt; {s["category"] if s["n"] % 2 else f'<a href="/{s["slug"]}/">{s["category"]}</a>'}</div>
<div class="main"><div class="left">
<div class="wz">
<{title_tag} class="wz-title">{s["h1"]}</{title_tag}>
<p class="wz-meta">发布时间：2024-02-{10 + s["n"]:02d} 作者：小编 浏览次数：{s["n"] * 13 + 90}</p>
<div class="content">
<p>{s["h1"]}</p>
{html_body(lines)}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
<div class="share">分享到：<a>微信</a> <a>微博</a> <a>QQ空间</a></div>
</div></div>
<div class="right"><h3>热门范文</h3><ul><li><a href="/x/1.html">入党申请书最新版</a></li><li><a href="/x/2.html">大学生入党申请书</a></li></ul></div></div>
<div class="footer">本站部分内容来源于网络，如有侵权请联系删除。</div>""",
    )


def fam_wenku(spec, lines):
    """文库 document page: uploader, document number, page counters, VIP pay wall."""
    s = spec
    return page(
        f"<title>{s['page_title']}.docx - {s['site']}</title>",
        f"""<div class="header"><a href="/" class="logo">{s["site"]}</a><a href="/vip">开通VIP</a><a href="/login">登录</a></div>
<div class="crumbs"><a href="/">{s["site"]}</a> &gt; <a href="/c/jiaoyu/">教育专区</a> &gt; <a href="/c/{s["slug"]}/">{s["category"]}</a></div>
<div class="doc-wrap">
<h1 class="doc-title">{s["h1"]}.docx</h1>
<div class="doc-attr"><span>上传者：wenku_{s["n"]}8</span> <span>文档编号：{s["n"]}f3a7c9d2e</span> <span>页数：3页</span> <span>大小：{s["n"] * 3 + 20}.5KB</span></div>
<div class="doc-body">
<div class="page-box">
<p>{s["h1"]}</p>
{html_body(lines)}
<p>第1页 共3页</p>
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
</div>
<div class="doc-end"><p>VIP会员可阅读全文，剩余2页未读</p><a class="btn">立即下载</a> <a class="btn">举报</a></div>
</div>
<div class="foot">© {s["site"]} 版权所有</div>""",
    )


def fam_blog(spec, lines):
    """WordPress-like blog: article.post, entry-title, post meta, share bar, tags, comments."""
    s = spec
    return page(
        f"<title>{s['page_title']} &#8211; {s['site']}</title>\n"
        f'<meta property="og:url" content="https://{s["host"]}/{2024 - s["n"]}/05/{s["n"]}/">',
        f"""<header class="site-header"><p class="site-title"><a href="/">{s["site"]}</a></p>
<nav class="main-navigation"><ul><li><a href="/">首页</a></li><li><a href="/about">关于</a></li></ul></nav></header>
<main id="main" class="site-main">
<article id="post-{s["n"]}" class="post type-post status-publish">
<h1 class="entry-title">{s["h1"]}</h1>
<p>发表于 {2024 - s["n"]}年5月{s["n"] + 2}日 · 分类：{s["category"]} · {s["n"] + 3} 条评论</p>
<div class="entry-content">
{html_body(lines, marker_tag="h3")}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
<div class="sharedaddy"><h3 class="sd-title">分享此文：</h3><ul><li><a>微信</a></li><li><a>微博</a></li></ul></div>
<footer class="entry-footer"><span class="tags-links">标签：<a>{s["category"]}</a></span></footer>
</article>
<div id="comments" class="comments-area"><h2>发表评论</h2><p>您的电子邮箱地址不会被公开。</p></div>
</main>
<footer class="site-footer"><p>自豪地采用 WordPress</p></footer>""",
    )


def fam_forum(spec, lines):
    """Discuz-like forum thread: subject, 楼主 post in a table, reply/report links."""
    s = spec
    return page(
        f"<title>{s['page_title']} - {s['category']} - {s['site']} - Powered by Discuz!</title>",
        f"""<div id="hd"><div class="wp"><h2><a href="/">{s["site"]}</a></h2></div></div>
<div id="pt" class="bm cl"><div class="z"><a href="/">{s["site"]}</a> <em>›</em> <a href="/forum.php">论坛</a> <em>›</em> <a href="/f-{s["n"]}.html">{s["category"]}</a> <em>›</em> {s["crumb_last"]}</div></div>
<div id="ct" class="wp cl"><div id="postlist" class="pl bm">
<table cellspacing="0" cellpadding="0"><tr><td class="pls">
<div class="pi"><a class="xw1">写作爱好者{s["n"]}</a></div><p>主题 {s["n"] * 3}</p><p>帖子 {s["n"] * 41}</p><p>积分 {s["n"] * 97}</p></td>
<td class="plc"><div class="pi"><strong>楼主</strong></div>
<h1 class="ts"><span id="thread_subject">{s["h1"]}</span></h1>
<div class="authi">发表于 2022-3-{s["n"] + 4} 10:{s["n"] + 10} | 只看该作者 | 倒序浏览 | 阅读模式</div>
<div class="pct"><div class="pcb"><div class="t_fsz"><table cellspacing="0" cellpadding="0"><tr><td class="t_f" id="postmessage_{s["n"]}">
{html_body(lines, br=True)}<br>
{"<br>".join(s["inline_chrome"])}
</td></tr></table></div></div></div>
<div class="po">回复 <a>举报</a> <a>收藏</a> <a>分享</a></div>
</td></tr></table></div></div>
<div id="ft">Powered by Discuz! X3.4 © 2001-2024</div>""",
    )


def fam_wechat(spec, lines):
    """公众号-style article page: rich_media title, account meta, js_content, END mark."""
    s = spec
    return page(
        f'<title>{s["page_title"]}</title>\n<meta property="og:title" content="{s["h1"]}">',
        f"""<div id="js_article" class="rich_media">
<h1 class="rich_media_title" id="activity-name">{s["h1"]}</h1>
<div id="meta_content" class="rich_media_meta_list"><span>原创</span> <span>{s["site"]}</span> <em id="publish_time">2024-03-{s["n"] + 1:02d} 07:{s["n"] + 20}</em></div>
<div class="rich_media_content" id="js_content">
<p>点击上方蓝字关注我们</p>
{html_body(lines)}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
<p>— END —</p>
</div>
<div class="rich_media_tool"><span>阅读 {s["n"] * 211 + 1000}</span> <span>在看</span> <span>点赞</span> <span>分享</span></div>
</div>""",
    )


def fam_mobile(spec, lines):
    """Mobile page (m.xxx): back button bar, stats line, 全文共N字, 展开全文, app prompts."""
    s = spec
    return page(
        f"<title>{s['page_title']}-{s['site']}手机版</title>\n"
        f'<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f'<link rel="canonical" href="https://m.{s["host"]}/{s["slug"]}/{s["n"]}.html">',
        f"""<div class="m-top"><a class="back" href="javascript:history.back()">返回</a><span class="m-logo">{s["site"]}</span><a href="/m/search">搜索</a></div>
<div class="m-main">
<h1>{s["h1"]}</h1>
<p class="m-stat">浏览 {s["n"] * 100 + 17} · {s["category"]}</p>
<p>全文共 {s["n"] * 100 + 650} 字</p>
<div class="m-txt">
{html_body(lines)}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
<p class="m-more">展开全文</p>
<p>打开APP阅读更多精彩范文</p>
<div class="m-prenext"><a>上一篇</a><a>下一篇</a></div>
</div>
<div class="m-foot"><a>电脑版</a> | <a>返回顶部</a></div>""",
    )


def fam_logo_title(spec, lines):
    """<title> "XX_范文网" with an unlinked logo <h1> and the article title only in a div."""
    s = spec
    return page(
        f"<title>{s['page_title']}_{s['site']}</title>",
        f"""<div class="logo"><h1>{s["site"]}</h1></div>
<div class="nav"><a href="/">首页</a><a href="/zw/">作文</a><a href="/fw/">范文</a></div>
<div class="mainbox"><div class="title-bar"><span class="tit">{s["h1"]}</span></div>
<div class="con">
{html_body(lines)}
{"".join(f"<p>{c}</p>" for c in s["inline_chrome"])}
</div>
<div class="hot"><a>热门作文</a><a>优秀作文</a></div></div>
<div class="copy">{s["site"]} 版权所有</div>""",
    )


def txt_page(spec, lines):
    s = spec
    out = [
        s["h1"],
        "来源：" + s["site"] + "  发布时间：2023-09-0" + str(s["n"] % 9 + 1),
        f"阅读：{s['n'] * 17 + 300}次",
    ]
    out += [text for _, text in lines]
    out += s["inline_chrome"]
    out += ["全文完", f"本文链接：https://www.{s['host']}/{s['slug']}/{s['n']}.html"]
    return "\r\n".join(out) + "\r\n"


def docx_page(spec, lines):
    import docx

    s = spec
    document = docx.Document()
    header = document.sections[0].header.paragraphs[0]
    header.text = f"{s['site']} 精品文档"
    footer = document.sections[0].footer.paragraphs[0]
    footer.text = "第 1 页 共 2 页"
    document.add_paragraph(f"{s['site']}（www.{s['host']}）整理")
    document.add_heading(s["h1"], level=0)
    for _kind, text in lines:
        document.add_paragraph(text)
    for chrome in s["inline_chrome"]:
        document.add_paragraph(chrome)
    document.add_paragraph("第1页 共2页")
    document.add_paragraph("（完）")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FAMILY = {
    "fanwen": (
        fam_fanwen,
        ".html",
        "某某范文网",
        "moumou-fanwen.com",
        ["当前位置", "时间：2023", "来源：网友投稿", "阅读：", "上一篇", "相关推荐", "版权所有"],
    ),
    "crumbcat": (
        fam_crumb_category,
        ".html",
        "好文章范文网",
        "haowenzhang.cn",
        ["您现在的位置", "发布时间", "浏览次数", "分享到", "热门范文", "侵权", "好文章范文网"],
    ),
    "wenku": (
        fam_wenku,
        ".html",
        "学习文库",
        "xuexiwenku.net",
        [
            "上传者",
            "文档编号",
            "页数",
            "第1页 共3页",
            "VIP",
            "剩余2页",
            "立即下载",
            "举报",
            ".docx",
            "开通",
        ],
    ),
    "blog": (
        fam_blog,
        ".html",
        "小林的写作笔记",
        "xiaolin-notes.cn",
        ["发表于", "条评论", "分享此文", "标签：", "发表评论", "WordPress", "小林的写作笔记"],
    ),
    "forum": (
        fam_forum,
        ".html",
        "青年写作社区",
        "qnxz.org",
        ["发表于", "只看该作者", "楼主", "举报", "收藏", "Discuz", "写作爱好者", "积分"],
    ),
    "wechat": (
        fam_wechat,
        ".html",
        "成长笔记本",
        "",
        ["点击上方蓝字", "— END —", "原创", "成长笔记本", "阅读 ", "在看", "点赞"],
    ),
    "mobile": (
        fam_mobile,
        ".html",
        "美文手机站",
        "meiwen8.com",
        ["返回", "浏览 ", "全文共", "展开全文", "打开APP", "上一篇", "电脑版", "美文手机站"],
    ),
    "logo": (
        fam_logo_title,
        ".html",
        "作文范文网",
        "zuowenfanwen.com",
        ["作文范文网", "热门作文", "版权所有"],
    ),
    "txt": (
        txt_page,
        ".txt",
        "范文大全网",
        "fanwendaquan.com",
        ["来源：", "发布时间", "阅读：", "全文完", "本文链接"],
    ),
    "docx": (
        docx_page,
        ".docx",
        "优文库",
        "youwenku.com",
        ["优文库", "整理", "第1页 共2页", "（完）", "精品文档", "第 1 页"],
    ),
}

# Chrome a family's pages carry inside the text container, with no class to give it away.
INLINE = {
    "fanwen": [
        ["（完）"],
        ["全文完"],
        ["本文由某某范文网网友投稿，仅供参考"],
        ["分享到：微信 微博"],
        ["收藏本文 | 打印本文"],
    ],
    "crumbcat": [
        ["— END —"],
        ["举报 | 纠错"],
        ["发布者：小编 2024-02-11"],
        ["本文共 1 页"],
        ["点赞（12） 收藏（3）"],
    ],
    "wenku": [
        ["贡献者：学海无涯"],
        ["文档ID：88123"],
        ["1/3页"],
        ["开通会员，全文免费阅读"],
        ["下载本文到电脑"],
    ],
    "blog": [
        ["阅读次数：1234"],
        ["— THE END —"],
        ["喜欢这篇文章？点赞支持一下"],
        ["分享到：微信 微博"],
        ["更新于 2023-08-01"],
    ],
    "forum": [
        ["本帖最后由 写作爱好者 于 2022-3-5 10:24 编辑"],
        ["回复 举报"],
        ["（完）"],
        ["收藏 分享 点赞"],
        ["浏览次数：88"],
    ],
    "wechat": [
        ["阅读原文"],
        ["长按二维码关注我们"],
        ["文字：成长笔记本编辑部 | 排版：小周"],
        ["分享 点赞 在看"],
        ["（完）"],
    ],
    "mobile": [["阅读：1234次"], ["第1页 共2页"], ["会员可阅读全文"], ["收藏 举报"], ["全文完"]],
    "logo": [["（完）"], ["发布时间：2022-10-01"], ["阅读：512次"], ["下载本文"], ["浏览次数：76"]],
    "txt": [["— END —"], ["上传者：范文君"], ["第2页 共2页"], ["VIP会员免费下载全文"], ["（完）"]],
    "docx": [["文档编号：YW2023-118"], ["阅读：96次"], ["全文完"], ["上传者：优文君"], ["— END —"]],
}

# A line that repeats on every page of one site and no rule could know: learnt per batch.
SITE_LINE = {
    "forum": "青年写作社区 —— 与一万名写作者一起进步",
    "mobile": "美文手机站，陪你写好每一篇",
    "crumbcat": "好文章范文网祝您写作愉快",
}

PAGES = [
    # family, title, category, slug, theme, pieces [(piece title, start, count)], markers
    (
        "fanwen",
        "教师个人年度工作总结",
        "工作总结",
        "zongjie",
        "总结",
        [("立足课堂抓教学", 0, 4), ("在反思中成长", 3, 4), ("平凡岗位上的一年", 5, 3)],
        "bracket-title",
    ),
    (
        "fanwen",
        "新员工入职培训心得体会",
        "心得体会",
        "xinde",
        "心得",
        [("细节决定成败", 0, 3), ("学会沟通", 2, 3)],
        "pian-colon",
    ),
    ("fanwen", "珍惜时间演讲稿", "演讲稿", "yanjiang", "演讲", [("", 0, 6)], "bracket-title"),
    ("fanwen", "班主任工作计划", "工作计划", "jihua", "计划", [("", 0, 4), ("", 4, 4)], "stem"),
    (
        "fanwen",
        "我的外婆作文",
        "作文",
        "zuowen",
        "作文",
        [("菜市场的早晨", 0, 3), ("外婆的小路", 2, 3), ("陪伴", 3, 3)],
        "fanwen",
    ),
    ("crumbcat", "2024年大学生入党申请书", "入党申请书", "rudang", "申请书", [("", 0, 9)], ""),
    ("crumbcat", "个人工作总结", "个人总结", "geren", "总结", [("", 0, 5), ("", 3, 5)], "stem"),
    ("crumbcat", "上课玩手机检讨书", "检讨书", "jiantao", "检讨", [("", 0, 6)], ""),
    (
        "crumbcat",
        "光盘行动倡议书",
        "倡议书",
        "changyi",
        "倡议书",
        [("珍惜粮食", 0, 6), ("从我做起", 1, 5)],
        "pian-colon",
    ),
    ("crumbcat", "读《轮椅上的旅行》有感", "读后感", "duhougan", "读后感", [("", 0, 5)], ""),
    ("wenku", "小学语文教师工作总结", "工作总结", "zongjie", "总结", [("", 0, 8)], ""),
    ("wenku", "大学生入党申请书", "入党申请书", "rudang", "申请书", [("", 0, 9)], ""),
    ("wenku", "岗前培训心得体会", "心得体会", "xinde", "心得", [("", 0, 3), ("", 3, 3)], "bare"),
    ("wenku", "初一班级管理计划", "班级计划", "jihua", "计划", [("", 0, 8)], ""),
    ("blog", "读书笔记：一本关于坚持的书", "读书", "reading", "读后感", [("", 0, 5)], ""),
    (
        "blog",
        "我写过的三篇演讲稿",
        "演讲",
        "speech",
        "演讲",
        [("第一次上台", 0, 3), ("准备的过程", 2, 3), ("最后一分钟", 3, 3)],
        "pian-colon",
    ),
    ("blog", "实习两个月的心得", "随笔", "essay", "心得", [("", 0, 6)], ""),
    ("blog", "写给自己的年终总结", "总结", "zongjie", "总结", [("", 1, 7)], ""),
    ("forum", "分享一篇入党申请书，大家帮忙看看", "入党交流", "rudang", "申请书", [("", 0, 9)], ""),
    ("forum", "我的外婆和菜市场", "原创作文", "zuowen", "作文", [("", 0, 5)], ""),
    (
        "forum",
        "整理了两篇读后感给需要的同学",
        "读后感",
        "duhougan",
        "读后感",
        [("", 0, 3), ("", 2, 3)],
        "bare",
    ),
    ("forum", "求改：上课玩手机的检讨书", "作业求助", "qiuzhu", "检讨", [("", 0, 6)], ""),
    ("wechat", "开学第一课：珍惜时间", "演讲", "", "演讲", [("", 0, 6)], ""),
    (
        "wechat",
        "新员工培训心得三则",
        "心得",
        "",
        "心得",
        [("第一周", 0, 2), ("第二周", 2, 2), ("结业那天", 4, 2)],
        "bracket-title",
    ),
    ("wechat", "给全校同学的一封倡议书", "倡议", "", "倡议书", [("", 0, 6)], ""),
    ("wechat", "外婆和菜市场", "散文", "", "作文", [("", 0, 5)], ""),
    ("mobile", "关于珍惜粮食的倡议书", "倡议书", "changyi", "倡议书", [("", 0, 6)], ""),
    (
        "mobile",
        "教师年度考核个人总结",
        "个人总结",
        "zongjie",
        "总结",
        [("", 0, 4), ("", 3, 5)],
        "stem",
    ),
    ("mobile", "入党申请书2024最新版", "入党申请书", "rudang", "申请书", [("", 0, 9)], ""),
    (
        "mobile",
        "读后感范文",
        "读后感",
        "duhougan",
        "读后感",
        [("坚持的力量", 0, 3), ("重新站起来", 2, 3)],
        "fanwen",
    ),
    ("logo", "春天的校园", "写景作文", "xiejing", "作文", [("", 5, 4)], ""),
    ("logo", "期中考试检讨书", "检讨书", "jiantao", "检讨", [("", 0, 6)], ""),
    ("logo", "班级工作计划范文", "计划", "jihua", "计划", [("", 0, 4), ("", 4, 4)], "stem"),
    ("logo", "学习雷锋心得体会", "心得体会", "xinde", "心得", [("", 0, 6)], ""),
    ("txt", "教师工作总结", "工作总结", "zongjie", "总结", [("", 0, 8)], ""),
    ("txt", "入党申请书", "入党申请书", "rudang", "申请书", [("", 0, 9)], ""),
    ("txt", "珍惜时间的演讲稿", "演讲稿", "yanjiang", "演讲", [("", 0, 3), ("", 3, 3)], "bare"),
    ("txt", "读后感", "读后感", "duhougan", "读后感", [("", 0, 5)], ""),
    ("docx", "岗位培训心得体会", "心得体会", "xinde", "心得", [("", 0, 6)], ""),
    ("docx", "学期班级工作计划", "工作计划", "jihua", "计划", [("", 0, 8)], ""),
    ("docx", "入党申请书范文", "入党申请书", "rudang", "申请书", [("", 0, 9)], ""),
    ("docx", "节约粮食倡议书", "倡议书", "changyi", "倡议书", [("", 0, 6)], ""),
]

INTROS = [
    "",
    "工作总结是对一段时间工作的回顾，下面是小编为大家整理的范文，欢迎阅读参考。",
    "",
    "以下是本站为大家收集的几篇文章，希望对你有所帮助。",
]
# Count suffixes that sites add to the <title> and sometimes the <h1>.
COUNT = ["", "(优秀3篇)", "（精选2篇）", ""]

KEEP_BY_THEME = {
    "申请书": ["申请人：李明", "2024年3月5日", "此致", "敬礼！"],
    "检讨": ["检讨人：王小东", "2023年11月20日"],
    "倡议书": ["校学生会", "2024年4月8日"],
    "总结": ["一、主要工作", "老师们可以随时下载使用", "工会会员活动每季度举办一次"],
    "计划": ["一、指导思想"],
}


# Pages written by hand, each in the shape of yet another kind of site (DedeCMS 范文网,
# 文库 reader, 简书 / 知乎 / 新浪博客 / 头条 style posts, a WAP page in GBK, a Markdown note,
# a 文库 .txt with page counters, a Word export with markers); hand-export.docx is built below.
HAND = {
    "hand-dede.html": {
        "title": "暑期社区志愿服务心得体会",
        "piece_titles": [""],
        "category": "工作心得体会",
        "intro": "",
        "no_chrome": [
            "推荐阅读",
            "发布人",
            "发布时间",
            "字体",
            "打印",
            "责任编辑",
            "分隔线",
            "上一篇",
        ],
        "keep": ["本身就是一种收获。"],
    },
    "hand-docin.html": {
        "title": "小学二年级语文教学反思",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "精品文档",
            "值得你下载",
            "----",
            "- 1 -",
            "- 2 -",
            "资源ID",
            "下载积分",
            "全文页数",
            "会员登录下载",
            "完整版",
            ".doc",
            "豆丁文档网",
        ],
        "keep": ["只有常常回头看，才知道下一步该往哪里走。"],
    },
    "hand-jianshu.html": {
        "title": "我的第一份实习总结",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "2023.05.02",
            "字数",
            "阅读 567",
            "关注",
            "赞赏",
            "简书",
            "推荐阅读",
            "下载App",
        ],
        "keep": ["我都想保持这份认真。"],
    },
    "hand-zhihu.html": {
        "title": "如何写好一份读书心得？分享我的三点做法",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "赞同",
            "发布于",
            "IP 属地",
            "添加评论",
            "申请转载",
            "收藏",
            "关注他",
            "条评论",
        ],
        "keep": ["一、先记下触动你的地方", "具体的打算比空话更有分量。"],
    },
    "hand-sina.html": {
        "title": "期末家长会班主任发言稿",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "老杨的博客",
            "转载▼",
            "标签",
            "分享：",
            "赠金笔",
            "阅读(112)",
            "举报",
            "前一篇",
            "2019-01-12",
            "教书二十年",
        ],
        "keep": ["各位家长：", "二、需要家长配合的地方", "祝各位家长新年快乐，阖家幸福！"],
    },
    "hand-toutiao.html": {
        "title": "一位乡村教师的年终总结，看哭了很多人",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "原创",
            "2024-01-05",
            "山里的讲台",
            "关注",
            "打开App",
            "举报",
            "展开全文",
            "评论 356",
            "点赞",
            "转发",
            "图片来自作者本人",
        ],
        "keep": ["但可以一点点变好。"],
    },
    "hand-wap.html": {
        "title": "我最敬佩的人",
        "piece_titles": [""],
        "category": "初二作文",
        "intro": "",
        "no_chrome": [
            "您的位置",
            "作文吧",
            "作者：佚名",
            "人气",
            "本文共1页",
            "上一页",
            "看过本文的人",
            "我的好朋友",
            "返回首页",
            "电脑版",
            "正文",
        ],
        "keep": ["这就是我敬佩他的原因。"],
    },
    "hand-note.md": {
        "title": "军训心得体会",
        "piece_titles": ["军训心得体会（一）", "军训心得体会（二）"],
        "category": None,
        "intro": "",
        "no_chrome": ["来源：", "发布于", "阅读 231", "首发于", "转载请联系作者", "两篇"],
        "keep": ["我第一次感到一个集体的力量。"],
    },
    "hand-wenku.txt": {
        "title": "小学生安全教育心得体会",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "文档编号",
            "上传者",
            "第 1 页 共 2 页",
            "第 2 页 共 2 页",
            "- 1 -",
            "-----",
            "下载自",
            "天天文档",
            "www.",
            "[下载本文档]",
            "[收藏]",
            "[举报]",
        ],
        "keep": ["做一个懂安全、会保护自己的好学生。"],
    },
    "hand-export.docx": {
        "title": "学生会干部竞选演讲稿",
        "piece_titles": ["竞选宣传部部长", "竞选学习部部长", "竞选文艺部部长"],
        "category": None,
        "intro": "竞选演讲稿要让同学们记住你是谁、想做什么，下面三篇供参考。",
        "no_chrome": [
            "仅供学习参考",
            "百文库",
            "第 1 页",
            "第1页",
            "共3页",
            "word版",
            "可编辑",
            "（完）",
        ],
        "keep": ["请投我一票，谢谢大家！"],
    },
    # Written after the rules above were in place, and parsed once before any change:
    # 1 of these 4 came out right at first sight (see the commit that added them).
    "hand-daquan.html": {
        "title": "竞选班长发言稿",
        "piece_titles": ["做大家的服务员", "我想试一试", "让班级更有温度"],
        "category": "竞选发言稿",
        "intro": "【导语】竞选发言要短、要真、要有具体的打算，以下三篇竞选班长发言稿各有侧重，供同学们参考。",
        "no_chrome": [
            "好范文大全",
            "优秀3篇",
            "时间：",
            "我要投稿",
            "剩余 60%",
            "VIP",
            "标签",
            "本文来源",
            "https://",
            "相关文章",
            "竞选学习委员",
        ],
        "keep": ["让每个人都感到这个班是自己的家。"],
    },
    "hand-wx2.html": {
        "title": "写给毕业班孩子的一封信",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "点击蓝字",
            "春风教研",
            "2023-06-10",
            "图片来源",
            "如有侵权",
            "往期推荐",
            "毕业季，我们这样告别",
            "END",
            "在看",
        ],
        "keep": ["亲爱的孩子们：", "爱你们的班主任", "2023年6月10日"],
    },
    "hand-zuowen.html": {
        "title": "我家的小菜园",
        "piece_titles": [""],
        "category": "三年级作文",
        "intro": "",
        "no_chrome": [
            "小学生作文网",
            "您当前的位置",
            "作者：",
            "字数：",
            "指导老师",
            "上一篇",
            "秋天的树叶",
        ],
        "keep": ["我觉得那是我吃过最香的青菜。"],
    },
    "hand-wxcopy.txt": {
        "title": "植树节活动总结",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "点击蓝字",
            "编辑 |",
            "审核 |",
            "图片来源",
            "- END -",
            "往期回顾",
            "开学典礼精彩瞬间",
            "消防演练",
        ],
        "keep": ["3月12日上午", "也懂得了爱护环境要从身边的小事做起。"],
    },
    # A third round, also parsed before any change: 3 of 4 right at first sight.
    "hand-oldtable.html": {
        "title": "迟到检讨书",
        "piece_titles": [""],
        "category": "检讨书",
        "intro": "",
        "no_chrome": [
            "育才范文站",
            "热门文章",
            "作者：佚名",
            "点击数",
            "更新时间",
            "字体",
            "打印",
            "关闭",
            "文章录入",
            "责任编辑",
            "Copyright",
        ],
        "keep": ["尊敬的班主任：", "检讨人：赵小明", "2010年5月7日"],
    },
    "hand-zhidao.html": {
        "title": "家长会上家长代表发言稿怎么写？",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "百问知道",
            "提问者",
            "最佳答案",
            "本回答由网友推荐",
            "已赞过",
            "评价",
            "收起",
            "其他回答",
            "模板",
        ],
        "keep": ["尊敬的各位老师、各位家长：", "祝孩子们快乐成长！谢谢大家！"],
    },
    "hand-doc88.html": {
        "title": "2023年社区工作计划",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "道文网",
            "贡献者",
            "上传时间",
            "浏览：",
            "共3页",
            "第 1 页",
            "第 2 页",
            "还剩1页未读",
            "继续阅读",
            "下载文档到电脑",
            "积分",
        ],
        "keep": ["一、加强网格化管理", "遇到困难及时帮助解决。"],
    },
    "hand-zhaichao.txt": {
        "title": "故乡的老槐树",
        "piece_titles": [""],
        "category": None,
        "intro": "",
        "no_chrome": [
            "来源",
            "原文地址",
            "http://",
            "=====",
            "本文出自",
            "美文摘抄网",
            "手机版",
            "m.meiwen",
        ],
        "keep": ["它是一村人共同的记忆。"],
    },
}

EXPORT_PIECES = [
    (
        "竞选宣传部部长",
        [
            "大家好！我叫陈思远，来自高一三班。平时我喜欢画画和拍照，学校运动会的海报就是我和同学一起完成的。",
            "如果我当选宣传部部长，我想让每月的板报都由不同班级轮流设计，让更多同学的作品被看见。",
            "请投我一票，谢谢大家！",
        ],
    ),
    (
        "竞选学习部部长",
        [
            "各位同学好，我是高一五班的林一帆。我不是成绩最好的那个，但我知道怎样从落后追上来。",
            "我想在每个年级建立互助小组，成绩好的同学带一带有困难的同学，期末前再办几次答疑会。",
            "相信我，也相信我们一起能把学习变得轻松一些。请投我一票，谢谢大家！",
        ],
    ),
    (
        "竞选文艺部部长",
        [
            "大家好，我是高二一班的周小满，学了八年古筝，也参加过两次校园歌手大赛。",
            "我希望文艺部不只办晚会，还能在午休时间举办小型的音乐分享，让喜欢音乐的同学有一个舞台。",
            "请投我一票，谢谢大家！",
        ],
    ),
]


def hand_export_docx() -> bytes:
    """A Word file as 文库 sites export it: header and footer lines, a banner paragraph, the
    title with a tag, 【篇一】 markers each followed by the piece's title."""
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "百文库 · 仅供学习参考"
    document.sections[0].footer.paragraphs[0].text = "第 1 页 共 3 页"
    document.add_paragraph("本文档由百文库用户上传，仅供学习参考")
    document.add_paragraph("学生会干部竞选演讲稿（word版可编辑）")
    document.add_paragraph("竞选演讲稿要让同学们记住你是谁、想做什么，下面三篇供参考。")
    for n, (piece_title, texts) in enumerate(EXPORT_PIECES):
        document.add_paragraph(f"【篇{CN[n]}】")
        document.add_paragraph(piece_title)
        for text in texts:
            document.add_paragraph(text)
        if n == 0:
            document.add_paragraph("第1页 共3页")
    document.add_paragraph("（完）")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> None:
    """Write a fixture; a .docx whose parts are unchanged is left alone (its zip carries the
    time it was saved, which would change the file on every run)."""
    if path.suffix == ".docx" and path.exists():
        import zipfile

        def parts(blob: bytes) -> dict[str, bytes]:
            with zipfile.ZipFile(io.BytesIO(blob)) as archive:
                return {
                    name: archive.read(name)
                    for name in archive.namelist()
                    if not name.startswith("docProps/")
                }

        if parts(path.read_bytes()) == parts(data):
            return
    path.write_bytes(data)


def build() -> None:
    expectations = {}
    counters: dict[str, int] = {}
    for family, title, category, slug, theme, piece_specs, markers in PAGES:
        n = counters[family] = counters.get(family, 0) + 1
        render, ext, site, host, family_chrome = FAMILY[family]
        pieces = [(pt, paras(theme, start, count)) for pt, start, count in piece_specs]
        multi = len(pieces) > 1
        suffix = COUNT[n % len(COUNT)] if multi else ""
        intro = INTROS[n % len(INTROS)] if multi else ""
        inline = INLINE[family][(n - 1) % len(INLINE[family])]
        site_line = SITE_LINE.get(family)
        if site_line:
            inline = inline + [site_line]
        spec = {
            "n": n,
            "site": site,
            "host": host,
            "slug": slug,
            "category": category,
            "h1": title + (suffix if n % 2 else ""),
            "page_title": title + suffix,
            "crumb_last": title if n % 3 else title[:5] + "…",
            "stem": title,
            "markers": markers,
            "intro": intro,
            "pieces": pieces,
            "inline_chrome": inline,
        }
        lines, piece_titles = body_lines(spec)
        name = f"{family}-{n}{ext}"
        data = render(spec, lines)
        write(HERE / name, data if isinstance(data, bytes) else data.encode("utf-8"))
        keep = [text for text in KEEP_BY_THEME.get(theme, []) if any(text in p for _, p in lines)]
        keep += [text for _, text in lines][-1:]  # the last line of the text itself
        chrome = family_chrome + inline
        expectations[name] = {
            "title": title,
            "piece_titles": piece_titles,
            "pieces": len(piece_titles),
            "category": category if family in ("fanwen", "crumbcat", "forum", "wenku") else None,
            "intro": intro,
            "no_chrome": sorted(set(chrome)),
            "keep": keep,
        }
    write(HERE / "hand-export.docx", hand_export_docx())
    for name, entry in HAND.items():
        expectations[name] = {**entry, "pieces": len(entry["piece_titles"])}
    (HERE / "expectations.json").write_text(
        json.dumps(expectations, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    families = {
        name.split("-")[0] if not name.startswith("hand-") else name for name in expectations
    }
    print(len(expectations), "pages,", len(families), "site shapes")


if __name__ == "__main__":
    build()
