"""A deterministic generator of realistic-shaped articles, for benchmarks (bench/gen_corpus.py).

`generate(count, seed)` yields GenArticle(category_slug, title, intro, pieces), where pieces
is a list of block lists ([{"kind": "h1|h2|h3|p", "text": ...}]), the same blocks the
importer produces. Titles come from topic × organisation × document type vocabularies, the
text from a phrase bank of a few hundred sentences with slots, so pages have the length
(1,500-3,000 characters a piece), heading levels and placeholders of real 范文 pages.

Article i depends only on (seed, i): the first k articles of a run of N are the first k of
any longer run, and a run can be continued. No Django imports, so a benchmark script can
write files with `to_text()` without setting Django up.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import NamedTuple

_CN = "一二三四五六七八九十"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (一, 十二, 二十五): heading and piece ordinals."""
    if n <= 10:
        return _CN[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens - 1]) + "十" + (_CN[ones - 1] if ones else "")


class GenArticle(NamedTuple):
    category_slug: str
    title: str
    intro: str
    pieces: list[list[dict]]

    def piece_title(self, index: int) -> str:
        """Title of piece `index` (0-based): "<title>篇一" …, as on the pages."""
        return f"{self.title}篇{cn_number(index + 1)}"


# --- vocabularies --------------------------------------------------------------------------

# (category slug, weight, genre): the genre picks the title patterns and the phrase banks.
CATEGORY_MIX: tuple[tuple[str, int, str], ...] = (
    ("zongjie", 26, "summary"),
    ("jihua", 18, "plan"),
    ("xinde", 15, "reflection"),
    ("yanjianggao", 12, "speech"),
    ("zuowen", 8, "essay"),
    ("gaozhong-zuowen", 7, "argument"),
    ("shenqingshu", 14, "letter"),
)

TOPICS = (
    "安全生产",
    "文明城市创建",
    "志愿服务",
    "党建",
    "教师培训",
    "疫情防控",
    "垃圾分类",
    "消防安全",
    "食品安全",
    "防溺水",
    "禁毒宣传",
    "乡村振兴",
    "生态环境保护",
    "节能减排",
    "全民阅读",
    "科技创新",
    "医德医风建设",
    "师德师风建设",
    "党风廉政建设",
    "法治宣传教育",
    "防汛抗旱",
    "优化营商环境",
    "双拥共建",
    "妇女儿童权益保护",
    "共青团",
    "工会",
    "老龄服务",
    "网格化管理",
    "信访维稳",
    "档案管理",
    "财务管理",
    "人力资源管理",
    "后勤保障",
    "信息化建设",
    "质量管理",
    "客户服务",
    "市场营销",
    "班级管理",
    "教研",
    "德育",
    "心理健康教育",
    "劳动教育",
    "招生",
    "就业创业",
    "社会救助",
    "统计",
    "内部审计",
    "安全保卫",
    "应急管理",
    "交通安全",
    "森林防火",
    "爱国卫生运动",
    "未成年人思想道德建设",
    "普通话推广",
    "意识形态",
    "作风建设",
    "精神文明建设",
    "健康教育",
    "民族团结进步创建",
    "防范电信网络诈骗",
)

# (unit as in a title, how the unit calls itself in its own text)
ORGS: tuple[tuple[str, str], ...] = (
    ("社区", "我社区"),
    ("街道", "我街道"),
    ("学校", "我校"),
    ("小学", "我校"),
    ("中学", "我校"),
    ("幼儿园", "我园"),
    ("医院", "我院"),
    ("乡镇卫生院", "我院"),
    ("公司", "我公司"),
    ("车间", "我车间"),
    ("乡镇", "我镇"),
    ("村", "我村"),
    ("县局", "我局"),
    ("派出所", "我所"),
    ("银行支行", "我行"),
    ("供电所", "我所"),
    ("机关党支部", "支部"),
    ("团委", "团委"),
    ("工会", "工会"),
    ("办公室", "办公室"),
    ("项目部", "项目部"),
    ("物业公司", "我公司"),
    ("高校", "我校"),
    ("图书馆", "我馆"),
    ("酒店", "我店"),
    ("科室", "我科"),
    ("分公司", "分公司"),
    ("服务中心", "中心"),
)

# "全{unit}范围": how a unit names its own whole (全校, 全镇, 全单位).
UNIT_SCOPE = {
    "社区": "社区",
    "街道": "街道",
    "学校": "校",
    "小学": "校",
    "中学": "校",
    "高校": "校",
    "幼儿园": "园",
    "医院": "院",
    "乡镇卫生院": "院",
    "乡镇": "镇",
    "村": "村",
    "县局": "局",
    "公司": "公司",
    "物业公司": "公司",
    "分公司": "公司",
    "车间": "车间",
    "银行支行": "行",
}
PLACEHOLDER_UNITS = ("xx", "XX", "××", "某某", "___", "__")
PLACEHOLDER_YEARS = ("20__", "20xx", "20XX")

SUMMARY_TITLES = (
    "{year}年{org}{topic}工作总结",
    "{org}{topic}工作总结",
    "{topic}活动总结",
    "{year}年上半年{topic}工作总结",
    "个人{topic}工作总结",
    "{org}{topic}工作总结报告",
    "{year}年度{topic}工作总结",
    "{topic}专项行动工作总结",
    "{org}开展{topic}活动总结",
    "{year}年{topic}工作情况汇报",
)
PLAN_TITLES = (
    "{year}年{org}{topic}工作计划",
    "{topic}活动方案",
    "{org}{topic}实施方案",
    "{year}年{topic}工作要点",
    "{org}{topic}工作计划",
    "{year}年度个人{topic}工作计划",
    "{topic}宣传月活动方案",
    "{org}{topic}专项整治方案",
)
REFLECTION_TITLES = (
    "{topic}学习心得体会",
    "参加{topic}培训心得体会",
    "{topic}心得体会",
    "{org}{topic}工作心得",
    "{topic}专题学习研讨发言材料",
    "{topic}个人感悟",
)
SPEECH_TITLES = (
    "{topic}演讲稿",
    "{topic}主题发言稿",
    "{org}{topic}动员大会讲话稿",
    "竞聘{post}演讲稿",
    "{topic}表态发言",
    "{topic}国旗下讲话稿",
    "{org}{topic}经验交流发言",
)
ESSAY_TITLES = (
    "难忘的{event}作文",
    "我的{person}作文",
    "{season}的{place}作文",
    "{event}作文{words}字",
    "那一次，我{feeling}了作文",
    "{place}的{season}作文",
    "我眼中的{person}作文",
    "一件关于{thing}的小事作文",
)
ARGUMENT_TITLES = (
    "以{theme}为话题的高中作文",
    "{theme}高中议论文",
    "{theme}高中作文800字",
    "论{theme}高中作文",
    "关于{theme}的思考高中作文",
)
LETTER_KINDS = ("入党", "入团", "辞职", "转正", "国家助学金", "贫困补助", "调岗", "加薪", "奖学金")
LETTER_TITLES = (
    "{kind}申请书",
    "{year}年{kind}申请书",
    "{org}员工{kind}申请书",
    "个人{kind}申请书",
)

POSTS = (
    "办公室主任",
    "部门经理",
    "教研组长",
    "护士长",
    "班长",
    "车间主任",
    "团支部书记",
    "财务主管",
)
THEMES = (
    "坚持",
    "责任",
    "诚信",
    "创新",
    "感恩",
    "选择",
    "规则与自由",
    "青春",
    "梦想",
    "合作",
    "挫折",
    "细节",
    "敬畏",
    "传承",
    "独立思考",
    "家国情怀",
    "平凡与伟大",
    "读书",
)
PERSONS = (
    "妈妈",
    "爸爸",
    "爷爷",
    "奶奶",
    "外婆",
    "班主任",
    "同桌",
    "好朋友",
    "邻居阿姨",
    "语文老师",
)
PLACES = ("校园", "家乡", "公园", "小河边", "老街", "菜市场", "图书馆", "外婆家", "操场", "小山村")
SEASONS = ("春天", "夏天", "秋天", "冬天", "雨后", "清晨", "黄昏", "假期")
EVENTS = ("一件事", "运动会", "春游", "生日", "军训", "暑假", "比赛", "旅行", "家务劳动")
THINGS = ("一把雨伞", "一封信", "一本书", "一盆花", "一张照片", "一辆自行车", "一碗面", "一支钢笔")
FEELINGS = ("长大", "感动", "成功", "坚持", "勇敢", "明白")
EDITORS = ("笔尘", "墨言", "清风", "云舒", "书香", "若水", "晓月", "青禾")

INTROS = (
    "{doc}是对一段时间工作的回顾与梳理，写好{doc}能帮我们看清成绩、找准不足。以下是小编收集整理的{title}，仅供参考，欢迎阅读。",
    "怎样才能写出一篇条理清楚、重点突出的{doc}呢？下面是小编为大家精选的{title}，希望对你有所帮助。",
    "写{doc}要实事求是、言之有物，切忌空话套话。小编整理了几篇{title}，结构完整，可供大家借鉴。",
    "在日常工作和学习中，我们常常需要写{doc}。这里为大家准备了几篇{title}，欢迎参考修改使用。",
    "一篇好的{doc}，既要有内容，也要有条理。下面分享的{title}各有侧重，希望能给你一些启发。",
    "不少朋友不知道{doc}该从哪里下笔。小编特意整理了这组{title}，一起来看看吧。",
    "{doc}写得好不好，关键在于能不能把事情说清楚、把道理讲明白。以下{title}供大家学习参考。",
    "为了方便大家写作，小编收集了几篇有代表性的{title}，语言朴实、层次清楚，欢迎阅读收藏。",
    "写{doc}之前先理清思路，动笔时就会顺畅很多。下面是几篇{title}，大家可以结合实际参考。",
    "这里汇总了几篇质量较高的{title}，写法各有不同，相信总有一篇适合你。",
    "小编为大家挑选了几篇{title}，内容贴近实际，格式规范，可直接作为写作参考。",
    "如何把{doc}写得既规范又生动？不妨看看下面这几篇{title}，或许能找到思路。",
)
DOC_WORDS = {
    "summary": "总结",
    "plan": "计划",
    "reflection": "心得体会",
    "speech": "演讲稿",
    "essay": "作文",
    "argument": "作文",
    "letter": "申请书",
}

# --- phrase bank: report-style sentences (summaries, plans, reflections) ------------------

SUMMARY_OPENINGS = (
    "{year}年，{org}在上级党委、政府的正确领导下，紧紧围绕年初确定的目标任务，扎实推进{topic}工作，取得了阶段性成效。",
    "今年以来，{org}坚持以人民为中心的发展思想，把{topic}作为一项重要工作来抓，各项任务有序推进，现将有关情况总结如下。",
    "{year}年上半年，在上级部门的精心指导下，{org}认真贯彻落实各项决策部署，{topic}工作取得了新的进展。",
    "一年来，{org}以提高群众满意度为目标，以解决突出问题为抓手，积极推进{topic}工作，圆满完成了各项目标任务。",
    "按照上级关于做好{topic}工作的通知要求，{org}结合自身实际，精心组织、周密部署，较好地完成了阶段性工作任务。",
    "时光荏苒，{year}年即将过去。回顾一年来的{topic}工作，有收获也有不足，现将主要情况汇报如下。",
    "为深入贯彻上级有关精神，{org}于{year}年{month}月启动了{topic}专项行动，经过几个月的努力，工作取得了明显成效。",
    "自开展{topic}工作以来，{org}高度重视，把这项工作列入重要议事日程，做到了有计划、有部署、有检查、有总结。",
    "{year}年是{org}推进{topic}工作的关键之年。全体干部职工团结一心、攻坚克难，各项工作稳中有进。",
    "根据年初制定的工作计划，{org}围绕{topic}这一重点，抓基础、补短板、强弱项，全年工作总体平稳有序。",
    "今年，{org}把{topic}工作与业务工作同谋划、同部署、同落实，推动两者相互促进，取得了较好的效果。",
    "在过去的一年里，{org}认真履行职责，在{topic}方面做了大量扎实细致的工作，现将全年工作总结如下。",
)
PLAN_OPENINGS = (
    "为进一步做好{year}年{topic}工作，根据上级有关要求，结合{org}实际，特制定本计划。",
    "新的一年，{org}将紧紧围绕中心工作，坚持问题导向和目标导向，全力推进{topic}工作再上新台阶，具体计划如下。",
    "为切实提高{topic}工作水平，确保各项任务落到实处，经研究决定，{year}年在全{unit}范围内开展以下工作。",
    "{year}年，{org}{topic}工作的总体思路是：稳中求进、补齐短板、创新方法、提升质量。围绕这一思路，制定如下计划。",
    "为认真贯彻落实上级关于{topic}工作的部署要求，推动工作制度化、规范化、常态化，特制定本方案。",
    "回顾上一年度的{topic}工作，成绩与问题并存。为了在新的一年里取得更大进步，现将本年度工作计划安排如下。",
    "根据{org}年度工作总体安排，结合{topic}工作实际，现就本年度重点任务作如下安排。",
    "凡事预则立，不预则废。为使{topic}工作有序开展，{org}在广泛征求意见的基础上制定了本年度工作计划。",
)
REFLECTION_OPENINGS = (
    "近日，我参加了{org}组织的{topic}专题学习，聆听了专家的辅导讲座，又结合自身工作进行了认真思考，收获很大。",
    "{year}年{month}月，我有幸参加了为期{n}天的{topic}培训。短短几天的学习，让我在思想上和业务上都得到了提升。",
    "通过这段时间对{topic}的系统学习，我对这项工作的认识更加全面、深刻了，下面谈几点个人体会。",
    "作为一名基层工作者，{topic}是我每天都要面对的工作内容。这次集中学习让我有机会停下来好好梳理和反思。",
    "前段时间，单位组织我们开展了{topic}主题学习活动。学习过程中，我边学边思，现将学习体会汇报如下。",
    "参加工作以来，我一直从事与{topic}相关的工作，既有成绩带来的喜悦，也有挫折带来的反思。",
    "这次{topic}学习内容丰富、形式多样，既有理论讲解，又有案例分析，让我深受启发。",
    "{topic}看似离我们很远，其实就在身边。参加这次学习后，我对此有了切身的体会。",
)
MEASURES = (
    "{org}成立了以主要负责人为组长的{topic}工作领导小组，明确分管领导和具体责任人，形成了一级抓一级、层层抓落实的工作格局。",
    "我们把{topic}工作目标细化分解为{n}项具体任务，逐项明确责任部门和完成时限，实行清单化管理、销号式推进。",
    "坚持每月召开一次工作例会，通报工作进度，分析存在问题，研究解决办法，确保各项工作不掉队、不走样。",
    "充分利用宣传栏、电子显示屏、微信公众号等载体，广泛宣传{topic}的重要意义和相关知识，营造了浓厚的工作氛围。",
    "全年共组织各类宣传活动{n}场次，发放宣传资料{m}余份，受教育群众达{m2}人次。",
    "组织工作人员深入一线开展调查研究，召开座谈会{n2}次，收集意见建议{n}条，为科学决策提供了依据。",
    "针对排查出的问题，我们建立问题台账，实行一个问题、一名责任人、一套整改方案、一个整改时限，整改完成率达到{pct}%。",
    "我们修订完善了{n2}项规章制度，进一步明确了工作流程和岗位职责，使{topic}工作有章可循、有据可依。",
    "把{topic}工作纳入年度目标考核，考核结果与评先评优、绩效奖励直接挂钩，有效调动了干部职工的积极性。",
    "邀请上级部门和行业专家来{unit}授课{n2}次，围绕{topic}的政策法规和实务操作进行了系统讲解。",
    "采取集中学习与个人自学相结合、线上学习与线下研讨相结合的方式，组织开展专题学习{n}次。",
    "坚持问题导向，围绕群众反映强烈的突出问题开展专项整治，先后解决了一批群众急难愁盼的具体问题。",
    "在重要时间节点前，组织开展拉网式检查{n2}轮，对检查中发现的隐患当场能改的立即整改，不能当场整改的限期整改。",
    "主动加强与相关部门的沟通协调，建立了信息共享、联合检查、定期会商等工作机制，形成了齐抓共管的工作合力。",
    "我们注重发挥党员干部的示范带动作用，设立党员示范岗{n2}个，在急难险重任务面前党员带头冲在前面。",
    "结合实际创新工作方法，推行“一线工作法”，要求干部职工每周至少深入一线一次，面对面了解情况、解决问题。",
    "建立健全了值班值守制度，重要时段实行领导带班和二十四小时值班，确保信息畅通、反应迅速。",
    "我们把{topic}工作与日常管理有机结合起来，做到平时抓预防、节前抓检查、节后抓整改。",
    "对照上级考核细则，逐条逐项进行自查，查找差距和薄弱环节，制定了有针对性的改进措施。",
    "积极争取上级支持，落实专项资金{n}万元，用于改善工作条件、购置必要设备和开展宣传培训。",
    "结合信息化手段，建立了{topic}工作电子台账，实现了数据实时更新、进度随时可查。",
    "以开展主题活动为载体，先后组织了知识竞赛、演讲比赛、征文评选等活动，参与人数达{m}人次。",
    "我们坚持把服务群众放在首位，优化办事流程，压缩办理时限，推行一次告知、限时办结和跟踪回访制度。",
    "选派{n2}名业务骨干参加上级组织的专题培训，回来后在内部开展二次培训，实现了一人学习、全员受益。",
    "针对重点人群和重点区域，实行分类管理、精准施策，做到底数清、情况明、措施实。",
    "在开展工作中，我们注重典型引路，及时总结推广基层的好经验、好做法，评选表彰先进集体和个人{n2}个。",
    "组织开展应急演练{n2}次，检验了应急预案的可操作性，提高了干部职工的应急处置能力。",
    "加强工作督查，由分管领导带队，采取明查与暗访相结合的方式，对各项工作落实情况进行跟踪督办。",
    "深入开展结对帮扶活动，机关干部与基层单位、困难群众结成帮扶对子{n}个，帮助解决实际困难{m}余件。",
    "我们坚持“管业务必须管{topic}”的原则，把{topic}责任落实到每个岗位、每个人。",
    "在日常工作中，严格落实首问负责、一次性告知等制度，努力做到热情服务、规范服务、高效服务。",
    "通过开展“回头看”，对前期已整改的问题进行复查，防止问题反弹，巩固了整改成果。",
    "我们利用周末和节假日，组织志愿者走进社区、走进企业、走进学校，开展{topic}宣传服务活动。",
    "制定了《{topic}工作实施细则》，对工作目标、工作内容、职责分工和保障措施作出了具体规定。",
    "坚持每季度开展一次综合分析，查找工作中的薄弱环节，研究制定下一阶段的改进措施。",
    "将{topic}工作经费列入年度预算，做到专款专用，为工作的顺利开展提供了有力保障。",
    "加强与新闻媒体的联系，及时报道工作动态和先进经验，全年在各级媒体刊发稿件{n}篇。",
    "我们把{topic}与“我为群众办实事”实践活动结合起来，列出了{n2}项民生实事清单并逐项推进。",
    "严格执行请示报告制度，重大事项及时向上级请示汇报，做到不越位、不缺位。",
    "充分发挥网格员熟悉情况的优势，实行网格化管理，把工作任务落实到每一个网格、每一户人家。",
    "开展了“{topic}进万家”活动，把政策和知识送到群众身边，群众知晓率明显提高。",
    "对新入职人员实行岗前培训，考核合格后方可上岗，从源头上提高了队伍素质。",
    "我们定期召开群众代表座谈会，面对面听取意见，对群众提出的问题建立台账、限期答复。",
    "在推进工作中，注重上下联动、部门协作，做到任务共担、信息共享、成果共用。",
    "积极引入社会力量参与，与{n2}家企事业单位签订共建协议，拓宽了工作渠道。",
    "抓住关键环节和重点时段，加大检查频次和力度，确保各项措施落实到位。",
    "坚持把学习贯穿始终，每周利用半天时间集中学习政策法规和业务知识，提高了工作人员的业务水平。",
    "以问题为导向开展专项调研，形成了{n2}篇调研报告，提出的多条建议被上级采纳。",
    "通过召开现场推进会，组织各单位相互观摩、取长补短，推动了工作整体提升。",
    "注重档案资料的收集整理，做到每项工作有方案、有记录、有总结、有图片，做到有据可查。",
)
RESULTS = (
    "通过一年来的努力，{topic}工作取得了明显成效，群众满意度达到{pct}%，比上年提高了{n2}个百分点。",
    "全年未发生一起重大责任事故，{topic}工作连续多年保持平稳态势。",
    "{org}在全{area}{topic}工作考核中名列前茅，被评为先进单位。",
    "干部职工对{topic}工作的认识明显提高，主动参与的积极性明显增强，形成了人人关心、人人参与的良好局面。",
    "各项制度得到进一步完善，工作流程更加规范，工作效率较往年有了较大提高。",
    "一批群众关心的热点难点问题得到解决，群众的获得感和幸福感不断增强。",
    "工作队伍的整体素质有了新的提升，涌现出一批业务精、作风实的先进典型。",
    "{topic}工作的基础更加扎实，为下一步工作的深入开展打下了良好基础。",
    "经过集中整治，过去长期存在的一些老大难问题得到有效解决，群众纷纷点赞。",
    "全年各项指标均达到或超过预期目标，其中{n2}项指标创历史最好水平。",
    "工作经验被上级部门推广，先后有{n2}批次兄弟单位前来考察交流。",
    "社会各界对我们的工作给予了充分肯定，收到群众表扬信和锦旗{n2}面（封）。",
    "通过活动的开展，大家的责任意识、服务意识和规矩意识明显增强。",
    "从群众反馈来看，大家对我们的工作总体是满意的，这是对我们最大的鼓励。",
)
PROBLEMS = (
    "回顾一年来的工作，我们也清醒地认识到还存在一些问题和不足：一是部分同志对{topic}工作的重要性认识不够到位；二是工作方法还不够灵活，创新意识有待增强；三是个别工作落实不够及时。",
    "工作中还存在一些薄弱环节，主要表现在：基层力量相对薄弱，专业人才缺乏，工作经费仍显不足。",
    "在肯定成绩的同时，我们也看到，与上级要求和群众期待相比，{topic}工作还有一定差距。",
    "存在的问题主要有：宣传教育的覆盖面还不够广，群众参与度有待提高；长效机制还不够健全，存在重突击、轻日常的现象。",
    "一是思想认识还需进一步提高，个别同志存在“过得去就行”的思想；二是工作标准还需进一步提升，有些工作满足于完成任务，精细化程度不高。",
    "由于人员变动较大，部分新进人员对业务还不够熟悉，在一定程度上影响了工作效率。",
    "信息化建设相对滞后，数据统计和分析主要依靠手工，工作效率有待进一步提升。",
    "部门之间的协调配合还不够顺畅，有时存在推诿扯皮、衔接不畅的问题。",
    "个别工作虽然做了，但总结提炼不够，亮点特色不够突出，经验做法没有很好地推广开来。",
    "对照先进单位，我们在工作创新、品牌打造等方面还有不小差距，需要虚心学习、奋起直追。",
)
NEXT_STEPS = (
    "下一步，{org}将以更加务实的作风、更加有力的措施，推动{topic}工作不断取得新成效。",
    "在新的一年里，我们将认真总结经验，查找不足，进一步完善工作机制，努力把{topic}工作提高到一个新的水平。",
    "今后，我们将继续坚持问题导向，着力在健全长效机制上下功夫，推动{topic}工作由阶段性向常态化转变。",
    "我们将以此次总结为新的起点，振奋精神、真抓实干，为完成全年各项目标任务作出新的更大贡献。",
    "下一阶段，我们将重点抓好制度落实、队伍建设和督查考核三项工作，确保{topic}各项任务落地见效。",
    "新的一年，我们将进一步加大宣传力度，创新工作方式，让更多群众了解{topic}、支持{topic}、参与{topic}。",
    "我们将加强与兄弟单位的交流学习，借鉴先进经验，不断提升{topic}工作的科学化、规范化水平。",
    "我们有信心、有决心，在上级的坚强领导下，把{topic}工作做得更好，以优异成绩回报组织和群众的信任。",
)
PLAN_BODY = (
    "要进一步健全{topic}工作责任制，把目标任务分解到岗、落实到人，做到人人有责任、个个有担子。",
    "计划全年组织专题培训不少于{n2}次，重点提高工作人员的政策水平和实际操作能力。",
    "{month}月底前完成基础信息的摸底排查，建立完善工作台账，做到底数清、情况明。",
    "充分利用各类媒体平台开展宣传，全年计划开展宣传活动{n}场次以上，力争群众知晓率达到{pct}%以上。",
    "加强与有关部门的协调配合，每季度召开一次联席会议，研究解决工作中遇到的困难和问题。",
    "建立月调度、季通报、年考核的工作机制，对进度滞后的单位和个人及时提醒、督促整改。",
    "坚持试点先行、以点带面，选择{n2}个基础较好的单位开展试点，成熟后在全{unit}推广。",
    "要把{topic}工作与日常业务工作紧密结合，防止出现“两张皮”现象。",
    "年内力争完成{n}项重点任务，其中{n2}项在上半年完成，其余在三季度前全部完成。",
    "加大经费投入，计划安排专项资金{n}万元，重点用于设施改善、人员培训和宣传教育。",
    "建立健全激励机制，对工作中表现突出的集体和个人给予表彰奖励，营造比学赶超的良好氛围。",
    "严格落实督查问责制度，对工作推进不力、造成不良影响的，依规依纪严肃追究责任。",
    "进一步规范工作流程，修订完善相关制度，力争年内形成一套科学有效的工作规范。",
    "注重总结提炼，及时发现和培育典型，年底前形成{n2}个可复制、可推广的经验做法。",
    "在重要节假日和敏感时段，要提前部署、加强值守，确保不发生影响大局的问题。",
    "要充分发挥党员先锋模范作用，组织党员认领{topic}相关服务岗位，带头参与、带头攻坚。",
    "计划开展“{topic}宣传周”活动，集中展示工作成果，扩大社会影响力。",
    "进一步完善信息化平台建设，推动数据共享，提高工作的精准性和时效性。",
    "要坚持以人为本，把群众满意作为检验工作成效的根本标准，切实解决群众反映强烈的问题。",
    "年中开展一次全面检查，年底组织一次考核评估，考核结果纳入年度综合考评。",
)
REFLECTION_BODY = (
    "通过学习，我深刻认识到{topic}不是一项可有可无的工作，而是关系到每一个人切身利益的大事。",
    "以前我总觉得{topic}是领导和专门部门的事，和自己关系不大，这次学习彻底改变了我的看法。",
    "培训中，老师讲的一个案例让我印象深刻：一个小小的疏忽，最终酿成了无法挽回的后果。",
    "我认识到，做好{topic}工作，思想认识是前提，制度落实是关键，持之以恒是根本。",
    "回想自己以往的工作，虽然也算尽心尽力，但在细节上还有不少欠缺，有时凭经验办事，缺少认真钻研的劲头。",
    "学习中我结识了很多来自不同单位的同行，大家在交流中互相启发，让我看到了自己的差距。",
    "理论学习必须和实际工作结合起来，否则学得再多也只是纸上谈兵。",
    "今后我要把学到的知识运用到工作中去，边干边学，边学边改，不断提高自己的能力。",
    "作为一名普通工作人员，我能做的也许不多，但只要每个人都从自己做起，就能汇聚成强大的力量。",
    "这次学习让我明白了一个道理：只有不断学习，才能跟上时代的步伐，才能胜任不断变化的工作要求。",
    "专家在讲座中提到，很多问题的根源不在于不会做，而在于不愿做、不坚持做，这句话让我反思良久。",
    "我给自己定了三个小目标：一是每天抽出半小时学习业务知识；二是每月写一篇工作反思；三是每季度向同事请教一次经验。",
    "我体会到，{topic}工作既需要热情，更需要方法。只有找准问题、对症下药，才能事半功倍。",
    "学习结束后，我把笔记整理了一遍，并结合岗位实际写下了几条改进措施，准备在今后的工作中逐步落实。",
    "在分组讨论时，大家各抒己见，有的同志提出的观点很有见地，给了我很大启发。",
    "我深深感到，做好本职工作就是对{topic}最好的支持，把平凡的事做好就是不平凡。",
    "这次经历让我更加珍惜自己的岗位，也更加明白肩上的责任。",
    "我也看到了自己的不足：知识面还不够宽，遇到新情况、新问题时办法不多，需要在实践中继续磨炼。",
    "最让我感动的是身边那些默默付出的同事，他们几年如一日坚守岗位，用行动诠释了责任和担当。",
    "我相信，只要我们保持学习的热情和工作的干劲，就一定能把{topic}工作做得更好。",
)

# --- speeches ------------------------------------------------------------------------------

SALUTATIONS = (
    "尊敬的各位领导、各位同事：",
    "亲爱的老师们、同学们：",
    "尊敬的各位评委、各位来宾：",
    "各位领导、同志们：",
    "尊敬的老师，亲爱的同学们：",
    "各位工友、同事们：",
)
SPEECH_OPENINGS = (
    "大家好！今天我演讲的题目是《{speech_title}》。",
    "大家上午好！能够站在这里和大家交流关于{topic}的一些想法，我感到非常荣幸。",
    "大家好！我是来自{org_name}的一名普通工作人员，今天我想和大家聊一聊{topic}。",
    "大家好！首先感谢组织给我这次发言的机会。下面，我围绕{topic}谈几点认识和体会。",
)
SPEECH_SPECIAL_OPENINGS = {
    "国旗下": "老师们、同学们，早上好！今天我国旗下讲话的主题是{topic}。",
    "竞聘": "大家好！我叫xxx，今天竞聘的岗位是{post}。首先感谢领导给我们提供这次公平竞争的机会。",
}
SPEECH_BODY = (
    "同志们，{topic}不是一句口号，而是体现在每一天、每一件小事中的实际行动。",
    "我经常想，我们每天忙忙碌碌，到底是为了什么？答案其实很简单，就是为了让身边的人过得更好一些。",
    "记得刚参加工作的时候，一位老同志对我说：“干工作，最怕的不是难，而是不用心。”这句话我一直记在心里。",
    "有人说，平凡的岗位干不出什么大事。可我身边的许多同事，恰恰是在平凡的岗位上干出了不平凡的业绩。",
    "去年冬天的一个深夜，我接到紧急通知赶到现场，看到同事们早已在那里忙碌，没有一个人叫苦叫累。",
    "我们每一个人都是{topic}的参与者，也是受益者。只有人人参与，才能人人受益。",
    "成绩属于过去，新的挑战就在眼前。我们没有理由骄傲自满，更没有理由停滞不前。",
    "我深知，自己离组织的要求还有差距，但我有信心、有决心，在今后的工作中不断学习、不断进步。",
    "作为一名年轻人，我们要敢于吃苦、勇于担当，在急难险重任务中经受锻炼、增长才干。",
    "同学们，时间是最公平的，它给每个人的都是一天二十四小时。如何利用好这些时间，决定了我们将成为什么样的人。",
    "让我们从现在做起，从身边的小事做起，用实际行动为{topic}贡献自己的一份力量。",
    "这些年来，我最大的体会就是：只要肯下功夫，就没有干不好的工作。",
    "每当看到群众满意的笑容，我就觉得所有的辛苦都是值得的。",
    "我们要把{topic}的要求落实到每一个岗位、每一个环节，做到不留死角、不留盲区。",
    "回首过去，我们有过成功的喜悦，也有过失败的教训；展望未来，我们充满信心和期待。",
    "在座的每一位，都是这个集体的主人。集体的荣誉，需要我们每一个人共同来维护。",
    "青春因奋斗而美丽，人生因奉献而精彩。让我们在各自的岗位上发光发热。",
    "我相信，只要我们心往一处想、劲往一处使，就没有克服不了的困难。",
    "无论结果如何，我都将一如既往地做好本职工作，不辜负领导和同事们的信任。",
    "如果我能走上这个岗位，我将做到三点：一是加强学习，提高能力；二是团结协作，凝聚合力；三是改进作风，狠抓落实。",
)
SPEECH_CLOSINGS = (
    "我的演讲完毕，谢谢大家！",
    "谢谢大家！",
    "最后，祝大家工作顺利、身体健康！谢谢！",
    "我的讲话到此结束，谢谢大家！",
    "请大家相信我、支持我。谢谢大家！",
)

# --- essays (作文) ---------------------------------------------------------------------------

ESSAY_BODY = (
    "那是一个{season}的傍晚，{person}牵着我的手，慢慢地走在{place}的小路上。",
    "我至今还清楚地记得那一天，天空灰蒙蒙的，好像随时都会下雨。",
    "{person}总是笑眯眯的，眼角的皱纹像一朵盛开的菊花。",
    "我心里像揣了一只小兔子，怦怦直跳，手心里全是汗。",
    "风轻轻地吹过，树叶沙沙作响，好像在为我们唱歌。",
    "{place}里热闹极了，叫卖声、说笑声、自行车的铃铛声混在一起，好像一首欢快的交响曲。",
    "那一刻，我的鼻子一酸，眼泪不由自主地流了下来。",
    "我拿着{thing}，心里五味杂陈，说不出是高兴还是难过。",
    "从那以后，我每次经过那里，都会想起那天发生的事。",
    "{person}没有批评我，只是轻轻拍了拍我的肩膀说：“没关系，下次努力就好。”",
    "太阳渐渐落山了，晚霞把半边天染得通红，美极了。",
    "我咬紧牙关，一步一步地往前走，心里默默地给自己打气：“加油，再坚持一下！”",
    "{season}的{place}格外美丽，到处都是生机勃勃的景象。",
    "小时候的我非常调皮，常常惹{person}生气，可{person}从来舍不得真的打我。",
    "我学着大人的样子，小心翼翼地试了一次，没想到竟然成功了。",
    "回到家里，我把这件事讲给{person}听，{person}听了哈哈大笑。",
    "这件事虽然已经过去很久了，但它就像一颗种子，在我心里生根发芽。",
    "我终于明白了：成长，就是在一次次跌倒之后，学会自己站起来。",
    "时间过得真快，转眼间我已经是一名{grade}学生了。",
    "窗外的雨淅淅沥沥地下着，我趴在桌上，望着玻璃上的水珠发呆。",
    "同学们围了过来，你一言我一语，教室里顿时热闹起来。",
    "我低着头，不敢看{person}的眼睛，脸一下子红到了耳根。",
    "{person}的手粗糙而温暖，那是常年劳作留下的痕迹。",
    "远处传来一阵阵欢笑声，原来是小伙伴们在放风筝。",
    "我暗暗下定决心，一定要把这件事做好，不能让{person}失望。",
    "那天{person}端来的那碗热汤面，是我吃过最香、也最难忘的。",
    "山上的空气清新极了，吸一口，好像连心里都变得甜丝丝的。",
    "我们一边走一边聊，不知不觉就到了{place}。",
    "这件小事让我懂得了一个道理：帮助别人，快乐自己。",
    "夜深了，{person}的房间里还亮着灯，我知道，{person}又在为我们操劳。",
    "每当我遇到困难想要放弃的时候，就会想起{person}说过的那句话。",
    "比赛开始了，我紧张得手都在发抖，耳边只听得见自己的心跳声。",
    "这就是我的{person}，一个平凡而又伟大的人。",
    "啊，{season}的{place}，你是多么令人难忘！",
    "我喜欢这里的一草一木，更喜欢这里淳朴善良的人们。",
    "经过这件事，我好像一下子长大了许多。",
)
ARGUMENT_BODY = (
    "古人云：“不积跬步，无以至千里。”{theme}从来不是一蹴而就的，它需要日积月累的沉淀。",
    "在我看来，{theme}是一种态度，更是一种力量，它决定着一个人能走多远。",
    "纵观历史，凡是成就一番事业的人，无不把{theme}视为立身之本。",
    "司马迁忍辱负重，十余年如一日，终于完成了“史家之绝唱”；他的故事告诉我们，{theme}的背后是对理想的执着。",
    "然而，在快节奏的今天，有些人却把{theme}抛在脑后，追求速成，急功近利。",
    "诚然，{theme}并不意味着墨守成规。真正的{theme}，是在变化中守住初心。",
    "我们生活在一个前所未有的好时代，也面临着前所未有的挑战，{theme}显得尤为重要。",
    "试想，如果没有{theme}，科学家如何在失败中坚持探索？运动员如何在伤痛中坚持训练？",
    "屠呦呦和她的团队经历了一百九十次失败，才最终提取出青蒿素，这正是{theme}的最好注脚。",
    "作为新时代的青年，我们更应该把{theme}落实到学习和生活的点点滴滴之中。",
    "有人说，{theme}太沉重，不如活得轻松一些。但我认为，没有{theme}的轻松，只是一种虚度。",
    "{theme}不是挂在嘴边的口号，而是刻在心里的准则、落在脚下的行动。",
    "一个民族的进步，离不开一代又一代人的{theme}；一个人的成长，同样如此。",
    "由此可见，{theme}既是个人成长的阶梯，也是社会进步的基石。",
    "那么，我们应当如何做到{theme}呢？我认为，首先要有明确的目标，其次要有坚定的意志，最后要有科学的方法。",
    "苏轼一生屡遭贬谪，却始终保持豁达乐观的心态，“一蓑烟雨任平生”，这何尝不是一种{theme}？",
    "鲁迅弃医从文，以笔为刀，唤醒沉睡的国民，他用一生诠释了{theme}的分量。",
    "回望身边，那些默默坚守在平凡岗位上的人们，同样在书写着关于{theme}的故事。",
    "让我们以{theme}为帆，以奋斗为桨，驶向更加广阔的未来。",
    "青春之所以可贵，就在于它充满可能；而{theme}，正是把可能变为现实的钥匙。",
)

# --- letters (申请书) ----------------------------------------------------------------------

LETTER_SALUTATIONS = {
    "入党": ("敬爱的党组织：",),
    "入团": ("敬爱的团组织：",),
}
LETTER_DEFAULT_SALUTATIONS = (
    "尊敬的领导：",
    "尊敬的公司领导：",
    "尊敬的学校领导：",
    "尊敬的各位领导：",
)
LETTER_OPENINGS = {
    "入党": (
        "我志愿加入中国共产党，拥护党的纲领，遵守党的章程，履行党员义务，执行党的决定，严守党的纪律，保守党的秘密，对党忠诚，积极工作。",
        "经过长时间的学习和思考，我郑重地向党组织提出申请，志愿加入中国共产党。",
    ),
    "入团": (
        "我志愿加入中国共产主义青年团，坚决拥护中国共产党的领导，遵守团的章程，执行团的决议。",
    ),
    "辞职": (
        "首先感谢您在百忙之中阅读我的辞职申请。经过慎重考虑，我决定辞去目前担任的{post}一职。",
        "我因个人原因，申请辞去目前的工作，希望于{year}年xx月xx日正式离职。",
    ),
    "转正": ("我于{year}年{month}月进入{org_name}工作，试用期即将期满，现申请转为正式员工。",),
}
LETTER_DEFAULT_OPENINGS = (
    "我是{org_name}的某某，因实际情况需要，特向领导提出{kind}申请，恳请予以批准。",
    "我叫xxx，现将本人的有关情况汇报如下，并郑重提出{kind}申请。",
)
LETTER_COMMON = (
    "恳请领导充分考虑我的实际情况，批准我的申请。",
    "以上是我的真实情况，如有不实，愿意承担相应责任。",
    "无论申请结果如何，我都会一如既往地做好本职工作。",
    "我深知这份申请的分量，也明白组织对我的期望，我一定不辜负这份信任。",
    "今后我将以更高的标准严格要求自己，努力克服缺点，在工作和学习中不断进步。",
)
LETTER_PARTY = (
    "我出生在一个普通的农村家庭，爷爷是一名有几十年党龄的老党员，从小我就听他讲党员带头修路办学的故事。",
    "通过系统学习党的基本理论和党史，我对党的性质、宗旨和奋斗目标有了更加深刻的认识。",
    "身边的党员同志在急难险重任务面前总是冲在前面，他们的言行深深地影响着我。",
    "我也清醒地认识到自己还存在不少缺点和不足，比如理论学习还不够系统，工作方法还不够灵活。",
    "如果组织批准我的申请，我将时刻牢记自己的身份，发挥先锋模范作用；如果暂时没有批准，我也不会灰心。",
    "请组织在实践中考验我，我将以实际行动证明自己。",
    "我申请加入组织，不是为了个人的名誉和利益，而是希望在组织的教育和帮助下，成为一个更有理想、更有担当的人。",
    "在今后的学习和工作中，我将积极参加组织生活，认真完成组织交给的各项任务，主动接受同志们的监督。",
    "我将努力学习科学文化知识，钻研业务，争当本职岗位上的行家里手。",
)
LETTER_RESIGN = (
    "在这段时间里，我得到了领导和同事们的关心和帮助，学到了很多书本上学不到的东西。",
    "做出这个决定，我经过了很长时间的思考。这里有我熟悉的工作环境和可亲可敬的同事，我真的很舍不得。",
    "离职之前，我一定站好最后一班岗，做好工作交接，确保不因我的离开而影响工作。",
    "提出辞职，主要是因为家庭原因，父母年纪大了，身边需要有人照顾。",
    "我希望在离职前把手头的工作整理清楚，列出交接清单，方便接手的同事尽快熟悉情况。",
    "给单位带来的不便，敬请谅解。衷心祝愿单位的事业蒸蒸日上。",
    "如果接手的同事在工作中遇到问题，离职后我也愿意通过电话提供帮助。",
    "按照劳动合同的约定，我提前三十天提出书面申请，请领导安排好相关工作。",
)
LETTER_WORK = (
    "参加工作以来，我始终以饱满的热情对待工作，虚心向同事学习，认真完成领导交办的各项任务。",
    "在试用期间，我严格遵守各项规章制度，按时完成各项工作任务，没有出现差错。",
    "这几年，我在岗位上兢兢业业，取得了一些成绩，也积累了一定的经验，我相信自己能够胜任新的工作。",
    "我热爱这个集体，也认同单位的文化，希望能够在这里继续学习、继续成长。",
    "工作中我也发现了自己的不足，比如对部分业务的细节掌握得还不够透彻，处理复杂问题时还需要请教同事。",
    "去年我负责的几项工作都按期完成，得到了领导和客户的认可，年度考核结果为优秀。",
    "我利用业余时间参加了专业培训，取得了相关的职业资格证书，业务能力有了明显提高。",
    "如果领导批准我的申请，我将以更加积极的态度投入工作，为单位的发展贡献更多力量。",
)
LETTER_STUDENT = (
    "家里的经济来源主要靠父亲打零工，收入微薄且不稳定，母亲常年患病需要吃药，家庭生活十分困难。",
    "在学习上，我从不敢有丝毫懈怠，上学期各科成绩均在班级前列，并获得了校级奖学金。",
    "课余时间，我积极参加志愿服务和勤工助学，既锻炼了自己，也减轻了家里的负担。",
    "我申请这笔资助，是希望能够减轻父母的负担，让我能够安心学习，将来用自己的能力回报社会。",
    "我家住在一个偏远的小山村，家里有四口人，弟弟还在读书，全家的收入只能勉强维持日常开支。",
    "入学以来，我担任班级学习委员，积极为同学们服务，多次被评为优秀学生干部。",
    "我在生活上十分节俭，从不乱花一分钱，每月的生活费都精打细算。",
    "如果我能获得这笔资助，我将把它用于支付生活费和购买学习资料，把更多时间和精力投入到学习中。",
)
LETTER_BANKS = {
    "入党": LETTER_PARTY + LETTER_COMMON,
    "入团": LETTER_PARTY + LETTER_COMMON,
    "辞职": LETTER_RESIGN + LETTER_COMMON[2:],
    "转正": LETTER_WORK + LETTER_COMMON,
    "调岗": LETTER_WORK + LETTER_COMMON,
    "加薪": LETTER_WORK + LETTER_COMMON,
    "国家助学金": LETTER_STUDENT + LETTER_COMMON,
    "贫困补助": LETTER_STUDENT + LETTER_COMMON,
    "奖学金": LETTER_STUDENT + LETTER_COMMON,
}

HEADINGS_H1 = (
    "加强组织领导，压实工作责任",
    "突出工作重点，推动{topic}落实",
    "强化宣传教育，营造浓厚氛围",
    "健全制度机制，推进规范管理",
    "聚焦突出问题，开展专项整治",
    "创新方法载体，提升工作实效",
    "加强队伍建设，提高能力素质",
    "强化督查考核，确保任务落地",
    "坚持为民服务，回应群众关切",
    "主要工作及成效",
    "存在的问题和不足",
    "下一步工作打算",
    "指导思想",
    "工作目标",
    "主要措施",
    "工作安排",
    "保障措施",
    "基本情况",
    "主要做法",
    "几点体会",
    "工作要求",
    "夯实基础工作，补齐短板弱项",
    "深化协作联动，形成工作合力",
    "注重典型引路，发挥示范作用",
    "抓好学习教育，统一思想认识",
    "狠抓隐患排查，守牢安全底线",
    "提升服务水平，树立良好形象",
    "强化保障支撑，推动持续发展",
    "坚持问题导向，抓好整改落实",
    "总结经验教训，谋划长远发展",
)
HEADINGS_H2 = (
    "健全工作机制",
    "明确职责分工",
    "加强宣传引导",
    "强化业务培训",
    "狠抓责任落实",
    "完善制度建设",
    "开展专项检查",
    "加强督促指导",
    "注重典型示范",
    "强化要素保障",
    "做好信息报送",
    "抓好档案管理",
    "落实经费保障",
    "加强队伍管理",
    "提升服务质量",
    "突出重点领域",
    "抓住关键环节",
    "注重源头治理",
    "强化科技支撑",
    "严格考核奖惩",
)
HEADINGS_H3 = (
    "召开动员部署会",
    "制定实施方案",
    "开展集中培训",
    "组织自查自纠",
    "进行督导检查",
    "开展应急演练",
    "组织知识竞赛",
    "评选先进典型",
    "做好总结验收",
    "建立工作台账",
    "发放宣传资料",
    "开展入户走访",
    "组织专题讲座",
    "召开座谈会议",
    "落实整改措施",
)


# --- generation ----------------------------------------------------------------------------


class _Numbers(dict):
    """Slot values for one sentence: fixed words, plus numbers drawn only when a slot asks."""

    __slots__ = ("rng",)

    def __missing__(self, key: str) -> str:
        rng = self.rng
        if key == "n":
            # Now and then a number is left blank for the reader to fill in.
            return "xx" if rng.random() < 0.06 else str(rng.randint(3, 60))
        if key == "n2":
            return str(rng.randint(2, 12))
        if key == "m":
            return str(rng.randint(120, 9000))
        if key == "m2":
            return str(rng.randint(1000, 30000))
        if key == "pct":
            return str(rng.randint(82, 99))
        if key == "month":
            return "xx" if rng.random() < 0.1 else str(rng.randint(1, 12))
        raise KeyError(key)


class _Ctx:
    """What one article's sentences share: topic, unit, year, and a fresh-number source."""

    __slots__ = ("rng", "values")

    def __init__(self, rng: random.Random, **values: str) -> None:
        self.rng = rng
        self.values = _Numbers(values)
        self.values.rng = rng

    def fill(self, template: str) -> str:
        return template.format_map(self.values) if "{" in template else template


class _Deck:
    """One piece's sentences: the bank shuffled and dealt without repeats until it runs out."""

    __slots__ = ("bank", "cards", "rng")

    def __init__(self, rng: random.Random, bank: tuple[str, ...]) -> None:
        self.rng, self.bank, self.cards = rng, bank, []

    def deal(self) -> str:
        if not self.cards:
            self.cards = self.rng.sample(self.bank, len(self.bank))
        return self.cards.pop()


def _paragraph(ctx: _Ctx, deck: _Deck, target: int, first: str | None = None) -> str:
    parts = [ctx.fill(first)] if first else []
    size = sum(map(len, parts))
    while size < target:
        sentence = ctx.fill(deck.deal())
        parts.append(sentence)
        size += len(sentence)
    return "".join(parts)


def _report_piece(ctx: _Ctx, genre: str, target: int) -> list[dict]:
    rng = ctx.rng
    if genre == "plan":
        opening, body, closing_bank = PLAN_OPENINGS, PLAN_BODY + MEASURES[:20], NEXT_STEPS
    elif genre == "reflection":
        opening, body, closing_bank = REFLECTION_OPENINGS, REFLECTION_BODY, REFLECTION_BODY
    else:
        opening, body, closing_bank = SUMMARY_OPENINGS, MEASURES + RESULTS, NEXT_STEPS
    deck, closing = _Deck(rng, body), _Deck(rng, closing_bank)
    paragraphs = max(4, min(10, round(target / 260)))
    per = max(120, target // paragraphs)
    sections = rng.randint(2, min(4, paragraphs - 2))
    # Body paragraphs spread over the sections, at least one each.
    spread = [1] * sections
    for _ in range(paragraphs - 2 - sections):
        spread[rng.randrange(sections)] += 1
    spare = 15 - paragraphs - sections  # room left for sub-headings under the 15-block cap
    sub_kind = rng.choice(("h2", "h3", None, None)) if genre != "reflection" else None

    blocks = [{"kind": "p", "text": _paragraph(ctx, deck, per, rng.choice(opening))}]
    h1_pool = rng.sample(HEADINGS_H1, sections)
    sub_no = 0
    for s, count in enumerate(spread):
        blocks.append({"kind": "h1", "text": f"{cn_number(s + 1)}、{ctx.fill(h1_pool[s])}"})
        sub_no = 0
        for _ in range(count):
            if sub_kind and spare > 0:
                sub_no += 1
                spare -= 1
                if sub_kind == "h2":
                    text = f"（{cn_number(sub_no)}）{rng.choice(HEADINGS_H2)}"
                else:
                    text = f"{sub_no}、{rng.choice(HEADINGS_H3)}"
                blocks.append({"kind": sub_kind, "text": text})
            if genre == "summary" and s == sections - 1 and rng.random() < 0.5:
                blocks.append(
                    {"kind": "p", "text": _paragraph(ctx, deck, per, rng.choice(PROBLEMS))}
                )
            else:
                blocks.append({"kind": "p", "text": _paragraph(ctx, deck, per)})
    blocks.append({"kind": "p", "text": _paragraph(ctx, closing, per // 2, closing.deal())})
    return blocks


def _speech_piece(ctx: _Ctx, title: str, target: int) -> list[dict]:
    rng = ctx.rng
    opening = rng.choice(SPEECH_OPENINGS)
    for word, special in SPEECH_SPECIAL_OPENINGS.items():
        if word in title:
            opening = special
    deck = _Deck(rng, SPEECH_BODY + REFLECTION_BODY[:8])
    paragraphs = max(4, min(11, round(target / 230)))
    # The salutation and the closing are short: the body carries the length.
    per = max(120, target // (paragraphs - 2))
    blocks = [
        {"kind": "p", "text": rng.choice(SALUTATIONS)},
        {"kind": "p", "text": ctx.fill(opening)},
    ]
    # About a third of real speeches number their points (一、二、三、).
    numbered = rng.random() < 0.35
    heads = rng.sample(HEADINGS_H1[:9], 3) if numbered else []
    for i in range(paragraphs - 2):
        if numbered and i < len(heads):
            blocks.append({"kind": "h1", "text": f"{cn_number(i + 1)}、{ctx.fill(heads[i])}"})
        blocks.append({"kind": "p", "text": _paragraph(ctx, deck, per)})
    blocks.append({"kind": "p", "text": rng.choice(SPEECH_CLOSINGS)})
    return blocks


def _essay_piece(ctx: _Ctx, bank: tuple[str, ...], target: int) -> list[dict]:
    deck = _Deck(ctx.rng, bank)
    paragraphs = max(5, min(14, round(target / 180)))
    per = max(100, target // paragraphs)
    return [{"kind": "p", "text": _paragraph(ctx, deck, per)} for _ in range(paragraphs)]


def _letter_piece(ctx: _Ctx, kind: str, target: int) -> list[dict]:
    rng = ctx.rng
    deck = _Deck(rng, LETTER_BANKS[kind])
    paragraphs = max(3, min(10, round(target / 220)))
    per = max(120, target // paragraphs)
    blocks = [
        {"kind": "p", "text": rng.choice(LETTER_SALUTATIONS.get(kind, LETTER_DEFAULT_SALUTATIONS))},
        {
            "kind": "p",
            "text": _paragraph(
                ctx,
                deck,
                per,
                rng.choice(LETTER_OPENINGS.get(kind, LETTER_DEFAULT_OPENINGS)),
            ),
        },
    ]
    blocks += [{"kind": "p", "text": _paragraph(ctx, deck, per)} for _ in range(paragraphs - 1)]
    signer = rng.choice(("xxx", "某某", "××", "___"))
    date = rng.choice(("20__年xx月xx日", "20__年__月__日", f"{ctx.values['year']}年xx月xx日"))
    blocks += [
        {"kind": "p", "text": "此致"},
        {"kind": "p", "text": "敬礼！"},
        {"kind": "p", "text": f"申请人：{signer}"},
        {"kind": "p", "text": date},
    ]
    return blocks


def _title(rng: random.Random, genre: str, topic: str, org: str, year: str) -> tuple[str, dict]:
    values = {
        "topic": topic,
        "org": org,
        "year": year,
        "post": rng.choice(POSTS),
        "theme": rng.choice(THEMES),
        "person": rng.choice(PERSONS),
        "place": rng.choice(PLACES),
        "season": rng.choice(SEASONS),
        "event": rng.choice(EVENTS),
        "thing": rng.choice(THINGS),
        "feeling": rng.choice(FEELINGS),
        "words": rng.choice(("400", "500", "600", "800")),
        "kind": rng.choice(LETTER_KINDS),
    }
    patterns = {
        "summary": SUMMARY_TITLES,
        "plan": PLAN_TITLES,
        "reflection": REFLECTION_TITLES,
        "speech": SPEECH_TITLES,
        "essay": ESSAY_TITLES,
        "argument": ARGUMENT_TITLES,
        "letter": LETTER_TITLES,
    }[genre]
    return rng.choice(patterns).format(**values), values


_WEIGHTED = [(slug, genre) for slug, weight, genre in CATEGORY_MIX for _ in range(weight)]


def generate_one(seed: int, index: int) -> GenArticle:
    """Article number `index` of the corpus `seed`: the same pair always gives the same text."""
    # String seeds go through SHA-512, so (seed, index) pairs never collide.
    rng = random.Random(f"fanwen-corpus:{seed}:{index}")
    slug, genre = rng.choice(_WEIGHTED)
    topic = rng.choice(TOPICS)
    org_name, org_self = rng.choice(ORGS)
    year = str(rng.randint(2019, 2025))
    title, values = _title(rng, genre, topic, org_name, year)
    # In the text a unit is often left blank for the reader to fill in (xx社区, 20__年).
    org_text = f"{rng.choice(PLACEHOLDER_UNITS)}{org_name}" if rng.random() < 0.3 else org_self
    year_text = rng.choice(PLACEHOLDER_YEARS) if rng.random() < 0.2 else year
    ctx = _Ctx(
        rng,
        topic=topic,
        org=org_text,
        org_name=org_name,
        unit=UNIT_SCOPE.get(org_name, "单位"),
        area=rng.choice(("市", "县", "区", "系统", "行业")),
        year=year_text,
        post=values["post"],
        theme=values["theme"],
        person=values["person"],
        place=values["place"],
        season=values["season"],
        thing=values["thing"],
        grade=rng.choice(("三年级", "五年级", "初一", "初二")),
        speech_title=f"{topic}，从我做起" if rng.random() < 0.5 else f"让{topic}成为习惯",
        kind=values["kind"],
    )
    intro = rng.choice(INTROS).format(doc=DOC_WORDS[genre], title=title)
    pieces = []
    for _ in range(rng.choices((2, 3, 4, 5), weights=(3, 4, 3, 2))[0]):
        # 申请书 are shorter than reports and essays on real sites.
        target = rng.randint(800, 1600) if genre == "letter" else rng.randint(1500, 3000)
        if genre in ("summary", "plan", "reflection"):
            pieces.append(_report_piece(ctx, genre, target))
        elif genre == "speech":
            pieces.append(_speech_piece(ctx, title, target))
        elif genre == "essay":
            pieces.append(_essay_piece(ctx, ESSAY_BODY, target))
        elif genre == "argument":
            pieces.append(_essay_piece(ctx, ARGUMENT_BODY, target))
        else:
            pieces.append(_letter_piece(ctx, values["kind"], target))
    return GenArticle(slug, title, intro, pieces)


def generate(count: int, seed: int, start: int = 0) -> Iterator[GenArticle]:
    """Articles start … start+count-1 of the corpus `seed`."""
    for index in range(start, start + count):
        yield generate_one(seed, index)


class GenMeta(NamedTuple):
    editor: str
    age_seconds: int  # published this long before the run
    view_count: int


def meta_for(seed: int, index: int, span_days: int = 365) -> GenMeta:
    """Editor, age and views of article `index`: deterministic like its text."""
    rng = random.Random(f"fanwen-meta:{seed}:{index}")
    # Few articles are read a lot, most a little (a Pareto tail, like a real site).
    views = min(200_000, int(rng.paretovariate(1.3) * 20) - 20)
    return GenMeta(rng.choice(EDITORS), rng.randrange(span_days * 86400), views)


def to_text(article: GenArticle, editor: str = "") -> str:
    """The article in the plain .txt shape the importer reads (title, 小编:, intro, 篇一 …)."""
    lines = [article.title]
    if editor:  # e.g. meta_for(seed, index).editor
        lines.append(f"小编:{editor}")
    lines += ["", article.intro, ""]
    for i, blocks in enumerate(article.pieces):
        if len(article.pieces) > 1:
            lines += [article.piece_title(i), ""]
        for block in blocks:
            lines += [block["text"], ""]
    return "\n".join(lines)
